using System.Net;

namespace Churn.Testing;

/// <summary>
/// An HTTP server on 127.0.0.1 standing in for a service the product calls (a webhook receiver, MLflow). Each
/// request's body is read whole and handed, with its context, to the handler, which answers on the context; requests
/// are served one at a time.
/// </summary>
public sealed class LoopbackHttpServer : IDisposable
{
    private readonly HttpListener listener = new();
    private readonly Task loop;

    /// <summary>Starts listening on <paramref name="port"/>, or on a free port when none is given.</summary>
    public LoopbackHttpServer(Func<HttpListenerContext, byte[], Task> handle, int? port = null)
    {
        Port = port ?? LoopbackPorts.Free();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        loop = Task.Run(() => ServeAsync(handle));
    }

    public int Port { get; }

    /// <summary>Stops listening and waits (up to five seconds) for the request being handled.</summary>
    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        try
        {
            loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop ends with the listener's disposal exception; nothing to report.
        }
    }

    private async Task ServeAsync(Func<HttpListenerContext, byte[], Task> handle)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            await handle(context, body.ToArray());
        }
    }
}
