using IoMT.Deployment.Loopback;
using Microsoft.Extensions.Options;
using static IoMT.Deployment.Kudu.Tests.TestWorld;

namespace IoMT.Deployment.Kudu.Tests;

[Collection(AppServiceHostCollection.Name)]
public sealed class ArmConnectorInventoryTests(AppServiceHostFixture fixture)
{
    private static readonly Dictionary<string, string> ConnectorTag = new() { ["iomt-connector"] = "true" };

    private AppServiceHost Host => fixture.Host;

    private ArmConnectorInventory Inventory(string subscription, Action<ArmConnectorInventoryOptions>? configure = null)
    {
        var options = new ArmConnectorInventoryOptions { SubscriptionId = subscription };
        Configure(options, Host);
        configure?.Invoke(options);
        return new ArmConnectorInventory(Options.Create(options), Host.Credential);
    }

    private static async Task<List<ConnectorTarget>> ListAsync(ArmConnectorInventory inventory)
    {
        var list = new List<ConnectorTarget>();
        await foreach (var connector in inventory.ListAsync())
        {
            list.Add(connector);
        }

        return list;
    }

    /// <summary>A subscription with connectors and look-alikes in two resource groups.</summary>
    private (string Subscription, List<AppServiceApp> Connectors) Fleet()
    {
        var subscription = NewSubscription();
        var prefix = Guid.NewGuid().ToString("N")[..8];
        var connectors = new List<AppServiceApp>();
        for (var i = 0; i < 9; i++)
        {
            connectors.Add(Host.AddApp(subscription, i % 2 == 0 ? "rg-a" : "rg-b", $"{prefix}-fa-{i}", i % 3 == 0 ? "functionapp,linux" : "functionapp", ConnectorTag));
        }

        Host.AddApp(subscription, "rg-a", $"{prefix}-web", "app", ConnectorTag);
        Host.AddApp(subscription, "rg-a", $"{prefix}-logic", "functionapp,workflowapp", ConnectorTag);
        Host.AddApp(subscription, "rg-b", $"{prefix}-untagged", "functionapp");
        Host.AddApp(subscription, "rg-b", $"{prefix}-other-tag", "functionapp", new Dictionary<string, string> { ["iomt-connector"] = "false" });
        Host.AddApp(NewSubscription(), "rg-a", $"{prefix}-elsewhere", "functionapp", ConnectorTag);
        return (subscription, connectors);
    }

    [Fact]
    public async Task Lists_the_tagged_function_apps_of_a_subscription_across_pages()
    {
        var (subscription, connectors) = Fleet();
        var before = Host.CountRequests(AppServiceRoute.ListSites);
        var previousPageSize = Host.PageSize;
        Host.PageSize = 4;
        try
        {
            var listed = await ListAsync(Inventory(subscription, o => (o.RequiredTagName, o.RequiredTagValue) = ("iomt-connector", "true")));

            Assert.Equal(connectors.Select(a => a.Name).Order(), listed.Select(c => c.Id).Order());
            Assert.All(listed, c => Assert.Equal(connectors.Single(a => a.Name == c.Id).ResourceId, c.ResourceId));
            Assert.All(listed, c => Assert.Equal("true", c.Tags!["iomt-connector"]));

            // 13 sites in the subscription at 4 a page.
            Assert.Equal(4, Host.CountRequests(AppServiceRoute.ListSites) - before);
        }
        finally
        {
            Host.PageSize = previousPageSize;
        }
    }

    [Fact]
    public async Task Without_a_tag_filter_every_function_app_counts_and_web_and_workflow_apps_do_not()
    {
        var (subscription, connectors) = Fleet();

        var listed = await ListAsync(Inventory(subscription));

        Assert.Equal(connectors.Count + 2, listed.Count);
        Assert.DoesNotContain(listed, c => c.Id.EndsWith("-web", StringComparison.Ordinal) || c.Id.EndsWith("-logic", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_resource_group_scope_and_resource_id_ids_are_honoured()
    {
        var (subscription, connectors) = Fleet();

        var listed = await ListAsync(Inventory(subscription, o =>
        {
            o.ResourceGroup = "rg-b";
            o.RequiredTagName = "iomt-connector";
            o.RequiredTagValue = "true";
            o.ConnectorId = ConnectorIdSource.ResourceId;
        }));

        var expected = connectors.Where(a => a.ResourceGroup == "rg-b").Select(a => a.ResourceId).Order().ToList();
        Assert.Equal(4, expected.Count);
        Assert.Equal(expected, listed.Select(c => c.Id).Order());
        Assert.All(listed, c => Assert.Equal(c.Id, c.ResourceId));
    }

    [Fact]
    public async Task Exists_reads_the_site_and_answers_false_once_it_is_deleted_or_not_a_connector()
    {
        var (subscription, connectors) = Fleet();
        var inventory = Inventory(subscription, o => o.RequiredTagName = "iomt-connector");
        var byResourceGroup = Inventory(subscription, o => o.ResourceGroup = "rg-a");
        var byResourceId = Inventory(subscription, o => o.ConnectorId = ConnectorIdSource.ResourceId);
        var app = connectors[0];

        Assert.True(await inventory.ExistsAsync(app.Name));
        Assert.True(await byResourceGroup.ExistsAsync(app.Name));
        Assert.True(await byResourceId.ExistsAsync(app.ResourceId));
        Assert.False(await inventory.ExistsAsync(connectors[0].Name.Replace("-fa-0", "-untagged", StringComparison.Ordinal)));
        Assert.False(await inventory.ExistsAsync(connectors[0].Name.Replace("-fa-0", "-web", StringComparison.Ordinal)));
        Assert.False(await inventory.ExistsAsync("no-such-app"));

        Host.DeleteApp(app);

        Assert.False(await inventory.ExistsAsync(app.Name));
        Assert.False(await byResourceGroup.ExistsAsync(app.Name));
        Assert.False(await byResourceId.ExistsAsync(app.ResourceId));
    }

    [Fact]
    public async Task Listing_and_site_reads_use_the_arm_scope()
    {
        var (subscription, _) = Fleet();
        Host.ClearRequestLog();

        await ListAsync(Inventory(subscription));

        var lists = Host.RequestLog.Where(r => r.Route == AppServiceRoute.ListSites).ToList();
        Assert.NotEmpty(lists);
        Assert.All(lists, r => Assert.Equal("https://management.azure.com", r.TokenAudience));
    }

    [Fact]
    public async Task A_token_for_another_audience_leaves_the_inventory_as_access_denied_naming_the_scope()
    {
        var (subscription, _) = Fleet();
        var options = new ArmConnectorInventoryOptions { SubscriptionId = subscription };
        Configure(options, Host);
        var inventory = new ArmConnectorInventory(Options.Create(options), new WrongAudienceCredential());

        var denied = await Assert.ThrowsAsync<StoreAccessDeniedException>(() => ListAsync(inventory));

        Assert.Equal(StoreUnavailableException.ConnectorInventory, denied.Store);
        Assert.Contains(subscription, denied.Endpoint, StringComparison.Ordinal);
        Assert.False(denied.IsTransient);
        Assert.IsType<Azure.RequestFailedException>(denied.InnerException);
        Assert.DoesNotContain("eyJ", denied.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Throttling_beyond_the_retries_leaves_the_inventory_as_throttled_not_as_an_azure_exception()
    {
        var (subscription, _) = Fleet();
        var inventory = Inventory(subscription);
        Host.ArmReadThrottle = new ThrottleSettings(0, 0);
        try
        {
            var throttled = await Assert.ThrowsAsync<StoreThrottledException>(() => ListAsync(inventory));

            Assert.Equal(StoreUnavailableException.ConnectorInventory, throttled.Store);
            Assert.True(throttled.IsTransient);
            Assert.Equal(429, Assert.IsType<Azure.RequestFailedException>(throttled.InnerException).Status);
        }
        finally
        {
            Host.ArmReadThrottle = null;
        }
    }

    private sealed class WrongAudienceCredential : Azure.Core.TokenCredential
    {
        public override Azure.Core.AccessToken GetToken(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            new(TestJwt.Create("https://vault.azure.net", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1)), DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<Azure.Core.AccessToken> GetTokenAsync(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
