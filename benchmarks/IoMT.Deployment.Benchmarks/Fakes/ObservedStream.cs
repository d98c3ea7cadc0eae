using System.Diagnostics;

namespace IoMT.Deployment.Benchmarks.Fakes;

/// <summary>
/// A read-only stream over bytes that notes when each pass over it starts and ends (a pass ends at end of stream; a
/// seek back to the start begins the next), to tell from outside where a consumer such as the publisher spends its time.
/// </summary>
internal sealed class ObservedStream(byte[] content) : Stream
{
    private readonly MemoryStream _inner = new(content, writable: false);
    private readonly long _created = Stopwatch.GetTimestamp();
    private readonly List<(TimeSpan Start, TimeSpan End, long Bytes)> _passes = [];
    private TimeSpan? _passStart;
    private long _passBytes;

    /// <summary>Gets each pass: when it started and ended, relative to the stream's creation, and the bytes read.</summary>
    public IReadOnlyList<(TimeSpan Start, TimeSpan End, long Bytes)> Passes
    {
        get
        {
            lock (_passes)
            {
                return [.. _passes];
            }
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => _inner.Length;

    public override long Position
    {
        get => _inner.Position;
        set
        {
            if (value == 0)
            {
                EndPass();
            }

            _inner.Position = value;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => Noted(_inner.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Noted(_inner.Read(buffer));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Noted(await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override long Seek(long offset, SeekOrigin origin)
    {
        if (origin == SeekOrigin.Begin && offset == 0)
        {
            EndPass();
        }

        return _inner.Seek(offset, origin);
    }

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        EndPass();
        _inner.Dispose();
        base.Dispose(disposing);
    }

    private int Noted(int read)
    {
        lock (_passes)
        {
            _passStart ??= Stopwatch.GetElapsedTime(_created);
            _passBytes += read;
        }

        if (read == 0 && _inner.Position == _inner.Length)
        {
            EndPass();
        }

        return read;
    }

    private void EndPass()
    {
        lock (_passes)
        {
            if (_passStart is { } start && _passBytes > 0)
            {
                _passes.Add((start, Stopwatch.GetElapsedTime(_created), _passBytes));
            }

            _passStart = null;
            _passBytes = 0;
        }
    }
}
