using Xunit;

namespace Churn.Testing;

/// <summary>Waiting for something a server does in the background: a job, a log write, a file, an alert.</summary>
public static class Wait
{
    /// <summary>
    /// Polls <paramref name="condition"/> every 100 ms until it holds; fails the test naming <paramref name="what"/> when it
    /// does not within <paramref name="limit"/>, adding what <paramref name="context"/> returns (a server's log, say).
    /// A bound for slow machines, not a timing assertion.
    /// </summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan limit, string what, Func<string>? context = null)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            if (await condition())
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Gave up waiting for {what} after {limit.TotalSeconds:0} s.{(context is null ? "" : "\n" + context())}");
            }
            await Task.Delay(100);
        }
    }
}
