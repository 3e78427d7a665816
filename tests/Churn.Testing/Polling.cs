using System.Net.Sockets;
using Xunit;

namespace Churn.Testing;

/// <summary>Waiting for a server a test started to be ready.</summary>
public static class Polling
{
    /// <summary>
    /// Asks <paramref name="ready"/> every 100 ms for up to two minutes. A probe that throws <see cref="SocketException"/>
    /// or <see cref="HttpRequestException"/> means "not listening yet". Fails the test, saying <paramref name="what"/>
    /// was not ready, when time runs out, and rethrows the server's error when <paramref name="running"/> ends first.
    /// </summary>
    public static async Task UntilReadyAsync(Task running, Func<Task<bool>> ready, string what)
    {
        for (var attempt = 0; attempt < 1200; attempt++)
        {
            if (running.IsCompleted)
            {
                await running;
                Assert.Fail("The server stopped before it was ready.");
            }
            try
            {
                if (await ready())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        Assert.Fail($"{what} was not ready within 120 s.");
    }
}
