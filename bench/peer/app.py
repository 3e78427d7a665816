"""The peer: the brief's own stack serving a churn model, for side-by-side benchmarks.

FastAPI (Debian python3-fastapi 0.92) under uvicorn (python3-uvicorn 0.17), a scikit-learn
(python3-sklearn 1.2.1) HistGradientBoosting pipeline trained at start-up on the Telco file with the
drops of BENCHMARKS.md (customerID; the 11 blank TotalCharges read as 0), tuned as BENCHMARKS.md's
"tuned" column (its best). Same request bodies as Churn:
  POST /predict        {"customerId": "...", "features": {...}, "customerValue": 1200}
  POST /predict/batch  {"customers": [ ...up to 100... ]}
  POST /jobs/score     CSV body (text/csv); scored synchronously, returns row count and seconds
No API keys, no reasons, no prediction log: the peer does less work per request than Churn.

Run: PEER_DATA=../shared/data/WA_Fn-UseC_-Telco-Customer-Churn.csv \
     /usr/bin/python3 -m uvicorn app:app --app-dir bench/peer --host 127.0.0.1 --port 8200 --workers 1
"""
import io
import os
import time
import uuid
from typing import Any, Dict, List, Optional

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from pydantic import BaseModel
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

DATA = os.environ.get("PEER_DATA", "../shared/data/WA_Fn-UseC_-Telco-Customer-Churn.csv")
NUMERIC = ["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]


def load(path_or_buffer) -> pd.DataFrame:
    df = pd.read_csv(path_or_buffer)
    return df


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    x = df[FEATURES].copy()
    for c in NUMERIC:
        x[c] = pd.to_numeric(x[c], errors="coerce").fillna(0.0)
    for c in CATEGORICAL:
        x[c] = x[c].astype(str)
    return x


_train = load(DATA)
FEATURES = [c for c in _train.columns if c not in ("customerID", "Churn")]
CATEGORICAL = [c for c in FEATURES if c not in NUMERIC]
_y = (_train["Churn"] == "Yes").astype(int).to_numpy()

MODEL = Pipeline(
    [
        (
            "encode",
            ColumnTransformer(
                [("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), CATEGORICAL)],
                remainder="passthrough",
            ),
        ),
        (
            "gbm",
            HistGradientBoostingClassifier(
                learning_rate=0.05,
                max_iter=500,
                max_leaf_nodes=15,
                min_samples_leaf=50,
                l2_regularization=1.0,
                early_stopping=True,
                validation_fraction=0.15,
                categorical_features=list(range(len(CATEGORICAL))),
                random_state=42,
            ),
        ),
    ]
)
MODEL.fit(prepare(_train), _y)
THRESHOLD = 0.5
del _train

app = FastAPI(title="peer")


class PredictRequest(BaseModel):
    customerId: Optional[str] = None
    features: Dict[str, Any]
    customerValue: Optional[float] = None


class BatchRequest(BaseModel):
    customers: List[PredictRequest]


def tier(p: float) -> str:
    return "high" if p >= 0.6 else "medium" if p >= 0.3 else "low"


def respond(req: PredictRequest, p: float) -> Dict[str, Any]:
    return {
        "predictionId": str(uuid.uuid4()),
        "customerId": req.customerId,
        "churnProbability": p,
        "willChurn": p >= THRESHOLD,
        "threshold": THRESHOLD,
        "riskTier": tier(p),
        "valueAtRisk": round(p * req.customerValue, 2) if req.customerValue is not None else None,
        "modelName": "peer-hgb",
    }


@app.post("/predict")
def predict(req: PredictRequest):
    x = prepare(pd.DataFrame([req.features]))
    p = float(MODEL.predict_proba(x)[0, 1])
    return respond(req, p)


@app.post("/predict/batch")
def predict_batch(req: BatchRequest):
    x = prepare(pd.DataFrame([c.features for c in req.customers]))
    ps = MODEL.predict_proba(x)[:, 1]
    return {"predictions": [respond(c, float(p)) for c, p in zip(req.customers, ps)]}


@app.post("/jobs/score")
async def score_file(request: Request):
    started = time.perf_counter()
    body = await request.body()
    df = load(io.BytesIO(body))
    ps = MODEL.predict_proba(prepare(df))[:, 1]
    out = io.StringIO()
    pd.DataFrame({"customer_id": df["customerID"], "churn_probability": np.round(ps, 6), "will_churn": ps >= THRESHOLD}).to_csv(out, index=False)
    return {"rows": int(len(df)), "seconds": time.perf_counter() - started, "bytes_out": len(out.getvalue())}


@app.get("/health")
def health():
    return {"status": "ok"}
