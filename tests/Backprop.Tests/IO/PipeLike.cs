namespace Backprop.Tests.IO;

/// <summary>
/// A stream that cannot seek, as a pipe cannot, and counts what was read from it; at most <paramref name="maxRead"/>
/// bytes a read (a pipe hands out what it has, not what was asked for).
/// </summary>
internal sealed class PipeLike(Stream inner, int maxRead = int.MaxValue) : Stream
{
    public long BytesRead { get; private set; }
    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = inner.Read(buffer, offset, Math.Min(count, maxRead));
        BytesRead += n;
        return n;
    }
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
