using System.Net;
using System.Text;

namespace IoMT.Deployment.Cosmos.Tests;

/// <summary>
/// Sits between the SDK and the test server and answers 429 (with a 1 ms Retry-After) to the requests it is told to,
/// as Cosmos DB does when a partition is over its throughput. Counts what it throttled.
/// </summary>
public sealed class ThrottlingHandler(HttpMessageHandler inner, Func<HttpRequestMessage, bool> throttle) : DelegatingHandler(inner)
{
    private int _throttled;

    public int Throttled => Volatile.Read(ref _throttled);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!throttle(request))
        {
            return base.SendAsync(request, cancellationToken);
        }

        Interlocked.Increment(ref _throttled);
        var response = new HttpResponseMessage(HttpStatusCode.TooManyRequests)
        {
            RequestMessage = request,
            Content = new StringContent("{\"code\":\"TooManyRequests\",\"message\":\"Request rate is large.\"}", Encoding.UTF8, "application/json"),
        };
        response.Headers.TryAddWithoutValidation("x-ms-retry-after-ms", "1");
        response.Headers.TryAddWithoutValidation("x-ms-substatus", "3200");
        response.Headers.TryAddWithoutValidation("x-ms-activity-id", Guid.NewGuid().ToString());
        return Task.FromResult(response);
    }

    /// <summary>Options whose client goes through a throttling handler that trusts only the fixture's certificate.</summary>
    public static ThrottlingHandler Install(CosmosServerFixture fixture, CosmosContainerOptions options, Func<HttpRequestMessage, bool> throttle)
    {
        var handler = new ThrottlingHandler(
            new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) => certificate is not null && fixture.AcceptsOurCertificate(certificate, chain, errors) },
            throttle);
        options.ConfigureClientOptions = o =>
        {
            o.ConnectionMode = Microsoft.Azure.Cosmos.ConnectionMode.Gateway;
            o.LimitToEndpoint = true;
            o.MaxRetryAttemptsOnRateLimitedRequests = 2;
            o.MaxRetryWaitTimeOnRateLimitedRequests = TimeSpan.FromSeconds(5);
            o.HttpClientFactory = () => new HttpClient(handler, disposeHandler: false);
        };
        return handler;
    }
}
