namespace Kfci.Storage;

/// <summary>
/// What an upload reads: the caller's stream from its current position on. The official client addresses a
/// seekable stream from offset 0 (it seeks to the bytes the session holds), so a seekable stream is seen as a window
/// starting at the caller's position; a forward-only stream is passed through and counted, so that a restart knows
/// whether any of it was consumed.
/// </summary>
internal sealed class UploadSource(Stream inner) : Stream
{
    private readonly long _origin = inner.CanSeek ? inner.Position : 0;
    private long _consumed;

    /// <summary>True when the upload can start over from the first byte.</summary>
    public bool CanRewind => inner.CanSeek || _consumed == 0;

    public override bool CanRead => true;

    public override bool CanSeek => inner.CanSeek;

    public override bool CanWrite => false;

    public override long Length => inner.CanSeek ? inner.Length - _origin : throw new NotSupportedException();

    public override long Position
    {
        get => inner.CanSeek ? inner.Position - _origin : _consumed;
        set => inner.Position = inner.CanSeek ? _origin + value : throw new NotSupportedException();
    }

    /// <summary>Back to the first byte (a seekable stream), or nothing to do (a forward-only one not read yet).</summary>
    public void Rewind()
    {
        if (inner.CanSeek)
        {
            inner.Position = _origin;
        }
        else if (_consumed > 0)
        {
            throw new InvalidOperationException("A forward-only stream that was read cannot be rewound.");
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Counted(await inner.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Counted(await inner.ReadAsync(buffer, cancellationToken));

    public override long Seek(long offset, SeekOrigin origin) => origin switch
    {
        SeekOrigin.Begin => Position = offset,
        SeekOrigin.Current => Position += offset,
        _ => Position = Length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private int Counted(int read)
    {
        _consumed += read;
        return read;
    }
}
