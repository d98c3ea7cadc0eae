using System.Collections.Concurrent;
using System.IO.Compression;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace IoMT.Deployment.Blobs.Tests;

/// <summary>Real zip packages, deterministic per seed.</summary>
internal static class TestPackages
{
    /// <summary>A zip with one stored (uncompressed) entry of <paramref name="payloadSize"/> seeded random bytes.</summary>
    public static byte[] Zip(int seed, int payloadSize = 1024)
    {
        var payload = new byte[payloadSize];
        new Random(seed).NextBytes(payload);
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            var entry = zip.CreateEntry("bin/connector.dll", CompressionLevel.NoCompression);
            using var stream = entry.Open();
            stream.Write(payload);
        }

        return buffer.ToArray();
    }

    public static BuildNumber Build(string text) => BuildNumber.Parse(text);
}

/// <summary>Records every request a client sends (method, URI, headers), for asserting on paging and transfer validation.</summary>
internal sealed class RequestRecorder : HttpPipelineSynchronousPolicy
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public override void OnSendingRequest(HttpMessage message)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in message.Request.Headers)
        {
            headers[header.Name] = header.Value;
        }

        _requests.Enqueue(new RecordedRequest(message.Request.Method.Method, message.Request.Uri.ToUri(), headers));
    }
}

internal sealed record RecordedRequest(string Method, Uri Uri, IReadOnlyDictionary<string, string> Headers)
{
    public bool HasQuery(string part) => Uri.Query.Contains(part, StringComparison.Ordinal);
}

/// <summary>Runs an action once, just before the first request that matches is sent: another writer landing in between.</summary>
internal sealed class InterceptBeforeFirst(Func<HttpMessage, bool> matches, Func<Task> action) : HttpPipelinePolicy
{
    private int _fired;

    public bool Fired => Volatile.Read(ref _fired) == 1;

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (matches(message) && Interlocked.Exchange(ref _fired, 1) == 0)
        {
            await action();
        }

        await ProcessNextAsync(message, pipeline);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The adapter is async only.");
}

/// <summary>Fails matching requests with a transport error while <see cref="Failing"/> is set.</summary>
internal sealed class FailWhile(Func<HttpMessage, bool> matches) : HttpPipelinePolicy
{
    public volatile bool Failing;

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        Failing && matches(message)
            ? throw new IOException("Simulated network failure.")
            : ProcessNextAsync(message, pipeline);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The adapter is async only.");
}

/// <summary>A <see cref="FakeLogger{T}"/> that also lets a test await log events instead of sleeping.</summary>
internal sealed class LogProbe<T> : ILogger<T>
{
    private readonly List<(int EventId, int Count, TaskCompletionSource Logged)> _waiters = [];

    public FakeLogger<T> Logger { get; } = new();

    public IReadOnlyList<FakeLogRecord> Records => Logger.Collector.GetSnapshot();

    public IEnumerable<FakeLogRecord> WithId(int eventId) => Records.Where(r => r.Id.Id == eventId);

    /// <summary>Completes once event <paramref name="eventId"/> has been logged <paramref name="count"/> times (now or before).</summary>
    public Task WaitForAsync(int eventId, int count = 1, TimeSpan? timeout = null)
    {
        var logged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (WithId(eventId).Count() >= count)
            {
                logged.TrySetResult();
            }
            else
            {
                _waiters.Add((eventId, count, logged));
            }
        }

        return logged.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
    }

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => Logger.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Logger.Log(logLevel, eventId, state, exception, formatter);
        lock (_waiters)
        {
            var count = WithId(eventId.Id).Count();
            foreach (var waiter in _waiters.Where(w => w.EventId == eventId.Id && count >= w.Count).ToList())
            {
                waiter.Logged.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }
}

internal static class CancellationTokenExtensions
{
    /// <summary>Completes when the token is cancelled; fails after the timeout.</summary>
    public static Task WhenCancelledAsync(this CancellationToken token, TimeSpan timeout)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        token.Register(() => cancelled.TrySetResult());
        return cancelled.Task.WaitAsync(timeout);
    }
}
