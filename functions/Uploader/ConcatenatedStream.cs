namespace Kfci.Functions.Uploader;

/// <summary>
/// A forward-only stream that reads several sources one after another, opening each only when the previous one is
/// exhausted and disposing it then: <c>build-log.txt</c> is the step logs under their headers, and it must never be
/// held whole in memory.
/// </summary>
public sealed class ConcatenatedStream(IEnumerable<Func<CancellationToken, Task<Stream>>> sources) : Stream
{
    private readonly IEnumerator<Func<CancellationToken, Task<Stream>>> _sources = sources.GetEnumerator();
    private Stream? _current;
    private bool _done;
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    /// <summary>A source of fixed text (a header).</summary>
    public static Func<CancellationToken, Task<Stream>> Text(string text) =>
        _ => Task.FromResult<Stream>(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text), writable: false));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (!_done && buffer.Length > 0)
        {
            if (_current is null)
            {
                if (!_sources.MoveNext())
                {
                    _done = true;
                    break;
                }

                _current = await _sources.Current(cancellationToken);
            }

            var read = await _current.ReadAsync(buffer, cancellationToken);
            if (read > 0)
            {
                _position += read;
                return read;
            }

            await _current.DisposeAsync();
            _current = null;
        }

        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();

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
            _current?.Dispose();
            _sources.Dispose();
        }

        base.Dispose(disposing);
    }
}
