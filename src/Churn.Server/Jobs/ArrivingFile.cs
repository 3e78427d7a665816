namespace Churn.Server.Jobs;

/// <summary>
/// An uploaded file that is still being written to disk, readable while it arrives. A reader that catches up with the
/// upload waits for more bytes, or for the upload's end, so scoring starts with the first rows instead of after the
/// last one. The upload side calls <see cref="Grew"/> after each chunk it wrote and ends with <see cref="Finish"/> or
/// <see cref="Fail"/>; the reader calls <see cref="Abandon"/> when its job no longer needs the rest.
/// </summary>
public sealed class ArrivingFile(string path)
{
    private readonly ManualResetEventSlim grew = new(false);
    private volatile bool finished;
    private volatile bool abandoned;
    private volatile Exception? failure;

    /// <summary>Where the upload is written.</summary>
    public string Path => path;

    /// <summary>True once the reader gave up on the file (its job failed), so the upload need not be kept.</summary>
    public bool Abandoned => abandoned;

    /// <summary>Bytes written so far are on disk (not in a buffer of the writer): a waiting reader may go on.</summary>
    public void Grew() => grew.Set();

    /// <summary>The upload is complete: a reader that reaches the end of the file has read all of it.</summary>
    public void Finish()
    {
        finished = true;
        grew.Set();
    }

    /// <summary>The upload broke off; a reader that reaches the end of what arrived gets an <see cref="IOException"/> naming <paramref name="problem"/>.</summary>
    public void Fail(Exception problem)
    {
        failure = problem;
        grew.Set();
    }

    /// <summary>The reader no longer needs the file.</summary>
    public void Abandon() => abandoned = true;

    /// <summary>
    /// A read-only stream over the file that, at the end of what has arrived, waits for more until the upload finishes
    /// (then it ends) or fails (then it throws <see cref="IOException"/>). Cancelling <paramref name="ct"/> ends a wait
    /// with <see cref="OperationCanceledException"/>.
    /// </summary>
    public Stream OpenRead(CancellationToken ct) =>
        new Follower(this, new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, bufferSize: 0), ct);

    private sealed class Follower(ArrivingFile file, FileStream inner, CancellationToken ct) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();

        /// <summary>Bytes read so far.</summary>
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (true)
            {
                // Reset before reading and look at "finished" before reading too: a chunk written (or the end announced)
                // after this point sets the event again, so a wait below never misses it.
                file.grew.Reset();
                var complete = file.finished;
                var read = inner.Read(buffer);
                if (read > 0 || buffer.IsEmpty)
                {
                    return read;
                }
                if (file.failure is { } problem)
                {
                    throw new IOException($"The upload did not complete: {problem.Message}", problem);
                }
                if (complete)
                {
                    return 0;
                }
                file.grew.Wait(TimeSpan.FromSeconds(1), ct);
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
