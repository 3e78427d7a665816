namespace Churn.Core.Tests.ReferenceData;

/// <summary>The four public churn datasets in ../shared/data load and train with nothing but a schema.</summary>
public class ReferenceDatasetTests
{
    private static string File(string name) => SharedData.PathOf(name);

    public static readonly (string File, string Label, string Positive, string? Id, string[] Drop, int Rows, int Positives, int Features)[] Datasets =
    [
        ("WA_Fn-UseC_-Telco-Customer-Churn.csv", "Churn", "Yes", "customerID", [], 7043, 1869, 19),
        ("Churn_Modelling.csv", "Exited", "1", null, ["RowNumber", "CustomerId", "Surname"], 10000, 2037, 10),
        ("BankChurners.csv", "Attrition_Flag", "Attrited Customer", "CLIENTNUM",
            ["Naive_Bayes_Classifier_Attrition_Flag_Card_Category_Contacts_Count_12_mon_Dependent_count_Education_Level_Months_Inactive_12_mon_1",
             "Naive_Bayes_Classifier_Attrition_Flag_Card_Category_Contacts_Count_12_mon_Dependent_count_Education_Level_Months_Inactive_12_mon_2"], 10127, 1627, 19),
        ("customer_churn_dataset-testing-master.csv", "Churn", "1", "CustomerID", [], 64374, 30493, 10),
    ];

    [SharedDataFact]
    public void EveryReferenceFileLoadsThroughAnInferredSchema()
    {
        foreach (var d in Datasets)
        {
            var inferred = SchemaInference.Infer(File(d.File), d.Label, d.Positive, d.Id, d.Drop);
            var data = DatasetLoader.Load(File(d.File), inferred.Schema);

            Assert.Equal(d.Rows, data.RowCount);
            Assert.Equal(d.Positives, data.Labels!.Count(l => l));
            Assert.Equal(d.Features, inferred.Schema.Features.Count);
        }
    }

    [SharedDataFact]
    public void BankFileWithPandasLabelsKeepsItsTrueChurnRate()
    {
        // The last 3,000 rows as a pandas round-trip leaves them: Exited written 1.0 / 0.0.
        var lines = System.IO.File.ReadAllLines(File("Churn_Modelling.csv"));
        for (var i = lines.Length - 3000; i < lines.Length; i++)
        {
            lines[i] += ".0";
        }
        var path = TestFiles.Temp(string.Join("\n", lines) + "\n");

        var inferred = SchemaInference.Infer(path, "Exited", "1");
        var data = DatasetLoader.Load(path, inferred.Schema);

        Assert.Equal(2037, data.Labels!.Count(l => l));
        Assert.Contains(inferred.Notes, n => n.Contains("2,037 churned (20.4 %)", StringComparison.Ordinal) && n.Contains("'1.0'", StringComparison.Ordinal));
        Assert.Equal("CustomerId", inferred.Schema.IdColumn);
        Assert.Contains("RowNumber", inferred.Schema.Drop);
    }

    [SharedDataFact]
    public void DigitIdsOfTheReferenceFilesAreProposedAsTheId()
    {
        Assert.Equal("CLIENTNUM", SchemaInference.Infer(File(Datasets[2].File), "Attrition_Flag", "Attrited Customer").Schema.IdColumn);
        Assert.Equal("CustomerID", SchemaInference.Infer(File(Datasets[3].File), "Churn", "1").Schema.IdColumn);
    }

    [SharedDataFact]
    public void TelcoSavedBySemicolonSpreadsheetLoadsLikeTheOriginal()
    {
        var original = File(Datasets[0].File);
        var schema = SchemaInference.Infer(original, "Churn", "Yes").Schema;
        var semicolon = TestFiles.Temp(string.Join("\n", System.IO.File.ReadLines(original).Select(ToSemicolons)) + "\n");

        var a = DatasetLoader.Load(original, schema);
        var b = DatasetLoader.Load(semicolon, schema);

        Assert.Equal(a.Labels!, b.Labels!);
        var charges = schema.IndexOf("MonthlyCharges");
        Assert.Equal(a.Columns[charges].Numbers!, b.Columns[charges].Numbers!);
    }

    // The Telco file has no quoted fields, so its commas are all separators; its decimal points become commas.
    private static string ToSemicolons(string line) => string.Join(';', line.Split(',').Select(c => c.Replace('.', ',')));

    [SharedDataFact]
    public void TelcoQuirksAreReadAsDocumented()
    {
        var schema = SchemaInference.Infer(File(Datasets[0].File), "Churn", "Yes").Schema;
        var data = DatasetLoader.Load(File(Datasets[0].File), schema);

        // 11 customers with tenure 0 have a single space as TotalCharges: missing, not zero, not an error.
        var total = data.Columns[schema.IndexOf("TotalCharges")].Numbers!;
        Assert.Equal(11, total.Count(double.IsNaN));
        Assert.Equal("customerID", schema.IdColumn);
        Assert.Equal(FeatureKind.Boolean, schema.Features[schema.IndexOf("SeniorCitizen")].Kind);
        Assert.Equal(FeatureKind.Categorical, schema.Features[schema.IndexOf("PaymentMethod")].Kind);
    }

    [SharedDataFact]
    public void BomAndCrlfFileHasACleanFirstColumnName()
    {
        using var reader = CsvReader.Open(File(Datasets[3].File));

        Assert.Equal("CustomerID", reader.Header[0]);
        Assert.Equal("Churn", reader.Header[^1]);
    }

    [SharedDataFact]
    public void TelcoTrainsToAUsefulModel()
    {
        var schema = SchemaInference.Infer(File(Datasets[0].File), "Churn", "Yes").Schema;
        var data = DatasetLoader.Load(File(Datasets[0].File), schema);

        var card = ChurnTrainer.Train(data, new TrainingOptions { ComputeImportance = false }).Model.Card;

        Assert.True(card.Metrics.Auc > 0.83, $"Telco test AUC {card.Metrics.Auc}");
        Assert.True(card.Metrics.Brier < 0.15, $"Telco Brier {card.Metrics.Brier}");
    }
}
