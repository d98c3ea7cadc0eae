using System.Runtime.ExceptionServices;
using Azure.Core;
using Azure.Core.Pipeline;

namespace IoMT.Deployment.Kudu;

/// <summary>
/// The App Service adapters' retry policy: Azure.Core's retry loop (the same response classifier, the same exponential
/// delays with jitter, a server's <c>Retry-After</c> honoured even when longer, one exception rethrown as it is, several as
/// an <see cref="AggregateException"/>), but its waits run on the injected <see cref="TimeProvider"/>. Azure.Core's own
/// <see cref="RetryPolicy"/> waits on the system clock and keeps its wait <c>internal</c>, so retries could neither be
/// tested on fake time nor follow a host's clock.
/// </summary>
internal sealed class ClockRetryPolicy : HttpPipelinePolicy
{
    private readonly int _maxRetries;
    private readonly DelayStrategy _delays;
    private readonly TimeProvider _time;

    public ClockRetryPolicy(AppServiceOptions options, TimeProvider time)
    {
        _maxRetries = options.MaxRetries;
        _delays = DelayStrategy.CreateExponentialDelayStrategy(options.RetryDelay, options.MaxRetryDelay);
        _time = time;
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("The App Service adapters send every request asynchronously.");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        List<Exception>? exceptions = null;
        while (true)
        {
            Exception? failure = null;
            try
            {
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                (exceptions ??= []).Add(ex);
                failure = ex;
            }

            if (ShouldRetry(message, failure))
            {
                // A delay is at least the server's Retry-After (DelayStrategy reads it from the response).
                var delay = _delays.GetNextDelay(message.HasResponse ? message.Response : null, message.ProcessingContext.RetryNumber + 1);
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, _time, message.CancellationToken).ConfigureAwait(false);
                }

                if (message.HasResponse)
                {
                    // Frees the connection of the answer being retried.
                    message.Response.ContentStream?.Dispose();
                }

                // The context is a view of the message: setting its RetryNumber sets the message's.
                var context = message.ProcessingContext;
                context.RetryNumber++;
                continue;
            }

            if (failure is not null)
            {
                if (exceptions!.Count == 1)
                {
                    ExceptionDispatchInfo.Capture(failure).Throw();
                }

                throw new AggregateException(
                    $"Retry failed after {message.ProcessingContext.RetryNumber + 1} tries. Retry settings can be adjusted with the adapter's MaxRetries, RetryDelay and MaxRetryDelay options.",
                    exceptions);
            }

            return;
        }
    }

    private bool ShouldRetry(HttpMessage message, Exception? failure)
    {
        if (message.ProcessingContext.RetryNumber >= _maxRetries)
        {
            return false;
        }

        if (failure is not null)
        {
            return message.ResponseClassifier.IsRetriable(message, failure);
        }

        return message.HasResponse && message.Response.IsError && message.ResponseClassifier.IsRetriableResponse(message);
    }
}
