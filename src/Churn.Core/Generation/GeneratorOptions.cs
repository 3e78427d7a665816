namespace Churn.Core.Generation;

/// <summary>
/// What <see cref="CustomerGenerator"/> produces: how many customers, from which seed, and how far
/// the population has drifted from the reference one. Invalid values are refused when set, so an
/// options instance that exists is always usable.
/// </summary>
public sealed record GeneratorOptions
{
    /// <summary>Number of customers to generate; at least 1.</summary>
    public required int Rows
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1, nameof(Rows));
            field = value;
        }
    }

    /// <summary>Seed of the only random source; the same options always give the same rows.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>
    /// How far the population has moved from the reference one, from 0 (reference) to 1 (fully
    /// drifted). See <see cref="CustomerGenerator"/> for what moves.
    /// </summary>
    public double Drift
    {
        get;
        init => field = ChurnMechanism.RequireDrift(value, nameof(Drift));
    }

    /// <summary>
    /// The date the snapshot describes. Every generated column is already relative to it
    /// (months of tenure, days since the last login), so it changes no cell; it is carried so that
    /// callers producing dated batches (monitoring demos, scheduled jobs) can record it with the data.
    /// </summary>
    public DateOnly? AsOf { get; init; }
}
