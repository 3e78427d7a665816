namespace Churn.Server.Predictions;

/// <summary>
/// One request's claim on the journal (<see cref="PredictionJournal.Cover"/>): the last line it appended, and whether
/// its response still waits for the lines it appends. Read and written under the journal's lock.
/// </summary>
public sealed class JournalCoverage
{
    /// <summary>The journal sequence of the last line appended in the request's flow; 0 when none.</summary>
    public long Line { get; internal set; }

    /// <summary>True once the response started or the request ended: later lines are not waited for by it.</summary>
    public bool Closed { get; internal set; }
}
