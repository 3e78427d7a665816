namespace Churn.Core.Generation;

/// <summary>
/// The joint distribution of generated customers at one drift level. The reference shapes follow
/// the public IBM telco churn data (contract and service mix, charges by service, total ≈ tenure ×
/// monthly); drift moves each of them linearly towards a pricier, less loyal, more troubled population.
/// </summary>
internal sealed class CustomerPopulation
{
    // Weights in enum order; the drifted mix has more month-to-month and fiber, and new categories.
    private static readonly double[] ContractAtZero = [0.55, 0.21, 0.24];
    private static readonly double[] ContractAtOne = [0.72, 0.16, 0.12];
    private static readonly double[] InternetAtZero = [0.34, 0.44, 0.22];
    private static readonly double[] InternetAtOne = [0.28, 0.55, 0.17];
    private static readonly double[] PaymentAtZero = [0.30, 0.24, 0.23, 0.23, 0.00];
    private static readonly double[] PaymentAtOne = [0.40, 0.15, 0.15, 0.15, 0.15];
    private static readonly double[] RegionAtZero = [0.27, 0.25, 0.26, 0.22, 0.00];
    private static readonly double[] RegionAtOne = [0.24, 0.22, 0.22, 0.20, 0.12];

    // Month-to-month customers pay by electronic check far more often than customers on contracts,
    // as in the telco data; the electronic-check weight is scaled per contract before normalising.
    private static readonly double[] ElectronicCheckByContract = [1.4, 0.8, 0.5];

    private const double NewCustomerShare = 0.01;
    private const double SatisfactionMissingShare = 0.02;

    private readonly double _drift;
    private readonly ChurnMechanism _mechanism;
    private readonly double[] _contract;
    private readonly double[] _internet;
    private readonly double[][] _paymentByContract;
    private readonly double[] _region;

    public CustomerPopulation(double drift)
    {
        _drift = drift;
        _mechanism = ChurnMechanism.At(drift);
        _contract = SeededSampler.Cumulative(ContractAtZero, ContractAtOne, drift);
        _internet = SeededSampler.Cumulative(InternetAtZero, InternetAtOne, drift);
        _region = SeededSampler.Cumulative(RegionAtZero, RegionAtOne, drift);
        _paymentByContract = new double[ElectronicCheckByContract.Length][];
        for (var c = 0; c < ElectronicCheckByContract.Length; c++)
        {
            var atZero = (double[])PaymentAtZero.Clone();
            var atOne = (double[])PaymentAtOne.Clone();
            atZero[(int)PaymentMethod.ElectronicCheck] *= ElectronicCheckByContract[c];
            atOne[(int)PaymentMethod.ElectronicCheck] *= ElectronicCheckByContract[c];
            _paymentByContract[c] = SeededSampler.Cumulative(atZero, atOne, drift);
        }
    }

    /// <summary>Draws customer number <paramref name="index"/> (1-based); the draw order is part of the output contract.</summary>
    public GeneratedCustomer Draw(SeededSampler sampler, int index)
    {
        var d = _drift;
        var contract = (ContractTerm)sampler.Pick(_contract);
        var tenure = DrawTenure(sampler, contract);
        var internet = (InternetService)sampler.Pick(_internet);
        var hasInternet = internet != InternetService.None;
        var techSupportRate = internet switch
        {
            InternetService.Dsl => 0.40,
            InternetService.FiberOptic => 0.28,
            _ => 0.0,
        } + (hasInternet && contract == ContractTerm.TwoYear ? 0.15 : 0.0);
        var techSupport = sampler.Bernoulli(techSupportRate);
        var partner = sampler.Bernoulli(0.48);
        var dependents = sampler.Bernoulli(partner ? 0.50 : 0.12);
        var senior = sampler.Bernoulli(0.16);
        var paperless = sampler.Bernoulli(internet switch
        {
            InternetService.FiberOptic => 0.75,
            InternetService.Dsl => 0.55,
            _ => 0.30,
        });
        var payment = (PaymentMethod)sampler.Pick(_paymentByContract[(int)contract]);

        // Charges: a base by service, tech support on top, streaming-style extras for internet
        // customers, and a price rise of up to 12 under drift.
        var monthly = internet switch
        {
            InternetService.FiberOptic => sampler.Normal(80, 8),
            InternetService.Dsl => sampler.Normal(47, 7),
            _ => sampler.Normal(21, 1.5),
        };
        monthly += techSupport ? 7 : 0;
        monthly += hasInternet ? 20 * sampler.Uniform() : 0;
        monthly += 12 * d;
        monthly = Math.Round(Math.Max(monthly, 18.0), 2);

        // Prices changed over a customer's life, so the total is only roughly tenure × monthly.
        double? total = tenure == 0
            ? null
            : Math.Round(tenure * monthly * Math.Max(0.5, 1 + (0.04 * sampler.Normal())), 2);

        var callRate = (0.8 + (internet == InternetService.FiberOptic ? 0.7 : 0) + (hasInternet && !techSupport ? 0.6 : 0))
            * (1 + (0.8 * d));
        var supportCalls = Math.Min(sampler.Poisson(callRate), 20);

        var satisfaction = (int)Math.Clamp(
            Math.Round(sampler.Normal(3.9 - (0.35 * supportCalls) - (internet == InternetService.FiberOptic ? 0.3 : 0) + (contract == ContractTerm.TwoYear ? 0.2 : 0), 0.9)),
            1, 5);
        var satisfactionMissing = sampler.Bernoulli(SatisfactionMissingShare);

        // Unhappy customers log in less often.
        var lastLogin = (int)Math.Min(sampler.Exponential(4 + (2.5 * (5 - satisfaction))), 90);

        var usage = internet switch
        {
            InternetService.FiberOptic => Math.Exp(Math.Log(160) + (0.5 * sampler.Normal())),
            InternetService.Dsl => Math.Exp(Math.Log(45) + (0.5 * sampler.Normal())),
            _ => 0.0,
        };
        usage = Math.Round(usage * (1 + (0.3 * d)), 2);

        var region = (SalesRegion)sampler.Pick(_region);

        var probability = ChurnMechanism.Sigmoid(_mechanism.Logit(
            contract, internet, payment, tenure, monthly, supportCalls, satisfaction, lastLogin,
            techSupport, partner, dependents, senior, paperless));
        var churned = sampler.Bernoulli(probability);

        return new GeneratedCustomer
        {
            CustomerId = "C" + index.ToString("D6", CultureInfo.InvariantCulture),
            TenureMonths = tenure,
            Contract = contract,
            MonthlyCharges = monthly,
            TotalCharges = total,
            InternetService = internet,
            PaymentMethod = payment,
            PaperlessBilling = paperless,
            SeniorCitizen = senior,
            Partner = partner,
            Dependents = dependents,
            TechSupport = techSupport,
            SupportCalls = supportCalls,
            MonthlyUsageGb = usage,
            LastLoginDaysAgo = lastLogin,
            SatisfactionScore = satisfaction,
            SatisfactionMissing = satisfactionMissing,
            Region = region,
            TrueProbability = probability,
            Churned = churned,
        };
    }

    // Tenure depends on the contract: month-to-month customers come and go (a long exponential
    // tail), contract customers cluster around a few years. Drift shortens every tenure by up to 30 %.
    private int DrawTenure(SeededSampler sampler, ContractTerm contract)
    {
        if (sampler.Bernoulli(NewCustomerShare))
        {
            return 0;
        }
        var scale = 1 - (0.3 * _drift);
        var months = contract switch
        {
            ContractTerm.MonthToMonth => 1 + Math.Floor(sampler.Exponential(16 * scale)),
            ContractTerm.OneYear => Math.Round(sampler.Normal(40 * scale, 16)),
            _ => Math.Round(sampler.Normal(56 * scale, 13)),
        };
        return (int)Math.Clamp(months, 1, 72);
    }
}
