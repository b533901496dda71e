using System.IO.Pipelines;

namespace Kfci.Storage;

/// <summary>
/// A download as a stream the caller reads at its own pace: the client writes into a small pipe (it waits while the
/// pipe is full, so memory stays at the pipe's size), and a failure mid-download surfaces from the reader's next read.
/// Disposing the stream cancels the download and releases its connection.
/// </summary>
internal sealed class GcsDownloadStream : Stream
{
    private const int PauseAt = 1024 * 1024;

    private readonly Stream _reader;
    private readonly CancellationTokenSource _cancel;
    private readonly Task _download;
    private int _disposed;

    private GcsDownloadStream(Stream reader, CancellationTokenSource cancel, Task download)
    {
        _reader = reader;
        _cancel = cancel;
        _download = download;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Starts <paramref name="download"/> into the pipe and returns the reading end.</summary>
    public static GcsDownloadStream Start(Func<Stream, CancellationToken, Task> download, CancellationToken cancellationToken)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: PauseAt, resumeWriterThreshold: PauseAt / 2, useSynchronizationContext: false));
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var task = Task.Run(async () =>
        {
            Exception? failure = null;
            try
            {
                await using var writer = pipe.Writer.AsStream(leaveOpen: true);
                await download(writer, cancel.Token);
            }
            catch (Exception e)
            {
                failure = e;
            }

            await pipe.Writer.CompleteAsync(failure);
        },
        CancellationToken.None);
        return new GcsDownloadStream(pipe.Reader.AsStream(), cancel, task);
    }

    public override int Read(byte[] buffer, int offset, int count) => _reader.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        _reader.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        _reader.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _cancel.Cancel();
            _reader.Dispose();

            // The token source lives until the cancelled download has stopped using it.
            var cancel = _cancel;
            _download.ContinueWith(_ => cancel.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        base.Dispose(disposing);
    }
}
