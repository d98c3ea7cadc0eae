using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Azure.Core.Diagnostics;
using IoMT.Deployment.Loopback;
using Microsoft.Extensions.Logging.Testing;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

[Collection(AppServiceHostCollection.Name)]
public sealed class SecretHygieneTests(AppServiceHostFixture fixture)
{
    [Fact]
    public async Task No_token_reaches_a_log_line_an_Azure_Core_event_or_an_exception_message()
    {
        var host = fixture.Host;
        var credential = new LoopbackTokenCredential();
        var azureEvents = new ConcurrentQueue<string>();
        using var listener = new AzureEventSourceListener((e, message) => azureEvents.Enqueue(message + " " + string.Join(" ", e.Payload ?? [])), EventLevel.Verbose);
        var logger = new FakeLogger<KuduConnectorDeployer>();
        var deployer = KuduDeployer(host, o => o.ConflictRetryLimit = 1, logger, credential);
        var ok = host.AddApp(NewSubscription(), "rg", "hyg-" + Guid.NewGuid().ToString("N")[..10]);
        var failing = host.AddApp(NewSubscription(), "rg", "hyg-" + Guid.NewGuid().ToString("N")[..10]);
        failing.Faults.Conflicts = 5;
        var gone = host.AddApp(NewSubscription(), "rg", "hyg-" + Guid.NewGuid().ToString("N")[..10]);
        host.DeleteApp(gone);

        await deployer.DeployAsync(Target(ok), Package("1"));
        await deployer.SetProjectVersionAsync(Target(ok), BuildNumber.Parse("1"));
        var errors = new List<Exception>
        {
            await Assert.ThrowsAsync<DeploymentFailedException>(() => deployer.DeployAsync(Target(failing), Package("1"))),
            await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deployer.DeployAsync(Target(gone), Package("1"))),
            await Assert.ThrowsAsync<ConnectorNotFoundException>(() => deployer.SetProjectVersionAsync(Target(gone), BuildNumber.Parse("1"))),
        };

        var tokens = credential.IssuedTokens;
        Assert.Equal(2, tokens.Count);
        var texts = new List<string>();
        texts.AddRange(logger.Collector.GetSnapshot().Select(r => r.Message + " " + string.Join(" ", r.StructuredState?.Select(kv => kv.Value) ?? [])));
        texts.AddRange(azureEvents);
        foreach (var error in errors)
        {
            for (var e = error; e is not null; e = e.InnerException)
            {
                texts.Add(e.Message);
            }
        }

        Assert.Contains(texts, t => t.Contains("Authorization", StringComparison.Ordinal) && t.Contains("REDACTED", StringComparison.Ordinal));
        Assert.NotEmpty(logger.Collector.GetSnapshot());
        foreach (var token in tokens)
        {
            Assert.DoesNotContain(texts, t => t.Contains(token, StringComparison.Ordinal) || t.Contains(token.Split('.')[1], StringComparison.Ordinal));
        }
    }
}
