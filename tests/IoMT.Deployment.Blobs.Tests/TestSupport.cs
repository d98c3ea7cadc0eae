using System.Collections.Concurrent;
using System.IO.Compression;
using Azure.Core;
using Azure.Core.Pipeline;

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

/// <summary>
/// Holds matching requests until <paramref name="count"/> of them have arrived, then lets them all (and any later one)
/// through: writers that all reach the same step before any of them takes it. Fails a request after 30 s of waiting.
/// </summary>
internal sealed class HoldUntilArrived(Func<HttpMessage, bool> matches, int count) : HttpPipelinePolicy
{
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived;

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (matches(message))
        {
            if (Interlocked.Increment(ref _arrived) >= count)
            {
                _all.TrySetResult();
            }

            await _all.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }

        await ProcessNextAsync(message, pipeline);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The adapter is async only.");
}

/// <summary>
/// One step of a choreography between clients: tells when a matching request arrives and when it is answered, and
/// holds it (after telling it arrived) until <paramref name="waitFor"/> completes, at most 30 s.
/// </summary>
internal sealed class Step(Func<HttpMessage, bool> matches, Func<Task>? waitFor = null) : HttpPipelinePolicy
{
    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _answered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Arrived => _arrived.Task;

    public Task Answered => _answered.Task;

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        if (!matches(message))
        {
            await ProcessNextAsync(message, pipeline);
            return;
        }

        _arrived.TrySetResult();
        try
        {
            if (waitFor is not null)
            {
                await waitFor().WaitAsync(TimeSpan.FromSeconds(30));
            }

            await ProcessNextAsync(message, pipeline);
        }
        finally
        {
            _answered.TrySetResult();
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The adapter is async only.");
}

/// <summary>Counts the answers received to matching requests (counted before the client sees them).</summary>
internal sealed class AnswerCounter(Func<HttpMessage, bool> matches) : HttpPipelinePolicy
{
    private int _answered;

    public int Answered => Volatile.Read(ref _answered);

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline);
        if (matches(message))
        {
            Interlocked.Increment(ref _answered);
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The adapter is async only.");
}

/// <summary>Answers the <paramref name="nth"/> matching request with a service error instead of sending it.</summary>
internal sealed class FailNth(Func<HttpMessage, bool> matches, int nth) : HttpPipelinePolicy
{
    private int _seen;

    public bool Failed => Volatile.Read(ref _seen) >= nth;

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        matches(message) && Interlocked.Increment(ref _seen) == nth
            ? throw new Azure.RequestFailedException(403, "Simulated refusal.", "AuthorizationFailure", null)
            : ProcessNextAsync(message, pipeline);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The adapter is async only.");
}

/// <summary>Which requests of the Blob REST API a test looks for.</summary>
internal static class BlobRequests
{
    public static bool IsStageBlock(HttpMessage message) =>
        message.Request.Method == RequestMethod.Put && message.Request.Uri.Query.Contains("comp=block&", StringComparison.Ordinal);

    public static bool IsCommit(HttpMessage message) =>
        message.Request.Method == RequestMethod.Put && message.Request.Uri.Query.Contains("comp=blocklist", StringComparison.Ordinal);

    public static bool IsStageBlock(RecordedRequest request) => request.Method == "PUT" && request.HasQuery("comp=block&");

    public static bool IsCommit(RecordedRequest request) => request.Method == "PUT" && request.HasQuery("comp=blocklist");

    /// <summary>The block id of a recorded stage request, as sent (base64).</summary>
    public static string BlockId(RecordedRequest request)
    {
        var parameter = request.Uri.Query.TrimStart('?').Split('&').Single(p => p.StartsWith("blockid=", StringComparison.Ordinal));
        return Uri.UnescapeDataString(parameter["blockid=".Length..]);
    }
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
