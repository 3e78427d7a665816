namespace Churn.Data.Registry;

/// <summary>
/// How a host moves the champion alias: it gets the target version and the alias move to run, and runs the move when it
/// is ready (a server first loads and warms the target, so no request waits for a cold model, and swaps it in after).
/// </summary>
public delegate Task ChampionSwap(ModelVersionInfo target, Func<CancellationToken, Task> moveAlias, CancellationToken cancellationToken);
