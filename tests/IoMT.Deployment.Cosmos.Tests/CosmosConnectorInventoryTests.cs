using System.Net;
using System.Text.Json;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace IoMT.Deployment.Cosmos.Tests;

[Collection(CosmosServerCollection.Name)]
public sealed class CosmosConnectorInventoryTests(CosmosServerFixture fixture)
{
    private const int PageRead = 3200;
    private const int Skipped = 3202;

    private async Task<(CosmosConnectorInventory Inventory, CosmosConnectorInventoryOptions Options, Container Container)> NewInventoryAsync(
        Action<CosmosConnectorInventoryOptions>? configure = null, FakeLogger<CosmosConnectorInventory>? logger = null)
    {
        var options = fixture.Use(new CosmosConnectorInventoryOptions(), createIfMissing: false);
        configure?.Invoke(options);
        var container = await fixture.CreateContainerAsync(options.DatabaseName!, options.ContainerName!, options.PartitionKeyPath!);
        return (new CosmosConnectorInventory(fixture.Client, options, logger), options, container);
    }

    private static async Task SeedAsync(Container container, IEnumerable<CosmosConnectorDocument> documents, Func<CosmosConnectorDocument, string>? partitionKey = null)
    {
        // Parallel creates with bounded concurrency: the test server has no bulk API, and one at a time is slow.
        await Parallel.ForEachAsync(documents, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (document, ct) =>
        {
            using var body = new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(document));
            using var response = await container.CreateItemStreamAsync(body, new PartitionKey(partitionKey?.Invoke(document) ?? document.Id), cancellationToken: ct);
            response.EnsureSuccessStatusCode();
        });
    }

    private static CosmosConnectorDocument Connector(string id, string? state = "Active") => new()
    {
        Id = id,
        ResourceId = $"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Web/sites/{id}",
        State = state,
    };

    [Fact]
    public async Task Streams_2500_connectors_page_by_page_within_MaxItemCount()
    {
        const int fleet = 2500;
        const int pageSize = 200;
        var logger = new FakeLogger<CosmosConnectorInventory>();
        var (inventory, _, container) = await NewInventoryAsync(o => o.MaxItemCount = pageSize, logger);
        await SeedAsync(container, Enumerable.Range(0, fleet).Select(i => Connector($"connector-{i:D4}")));

        var ids = new HashSet<string>(StringComparer.Ordinal);
        int? pagesWhenFirstArrived = null;
        await foreach (var connector in inventory.ListAsync())
        {
            pagesWhenFirstArrived ??= PageSizes(logger).Count;
            Assert.True(ids.Add(connector.Id), $"{connector.Id} listed twice");
        }

        Assert.Equal(fleet, ids.Count);
        var pages = PageSizes(logger);
        Assert.True(pages.Count >= fleet / pageSize, $"{pages.Count} pages");
        Assert.All(pages, size => Assert.InRange(size, 0, pageSize));
        Assert.Equal(fleet, pages.Sum());

        // Streamed: the first connector arrived after one page, not after the whole fleet was read.
        Assert.Equal(1, pagesWhenFirstArrived);
    }

    [Fact]
    public async Task Connectors_being_deleted_are_left_out_whatever_the_case_of_their_state()
    {
        var (inventory, _, container) = await NewInventoryAsync();
        await SeedAsync(container,
        [
            Connector("active"),
            Connector("no-state", state: null),
            Connector("deleting", "Deleting"),
            Connector("deleted", "deleted"),
            Connector("shouting", "DELETING"),
            Connector("provisioning", "Provisioning"),
        ]);

        var ids = await ListIdsAsync(inventory);

        Assert.Equal(["active", "no-state", "provisioning"], ids.Order(StringComparer.Ordinal));
        Assert.False(await inventory.ExistsAsync("deleting"));
        Assert.False(await inventory.ExistsAsync("shouting"));
    }

    [Fact]
    public async Task Exists_is_true_for_a_connector_and_false_for_an_unknown_one()
    {
        var (inventory, _, container) = await NewInventoryAsync();
        await SeedAsync(container, [Connector("known-1"), Connector("known-2")]);

        Assert.True(await inventory.ExistsAsync("known-2"));
        Assert.False(await inventory.ExistsAsync("unknown"));
        Assert.False(await inventory.ExistsAsync("known")); // no prefix match
    }

    [Fact]
    public async Task The_documented_shape_becomes_connector_targets()
    {
        var (inventory, _, container) = await NewInventoryAsync();
        await SeedAsync(container,
        [
            new CosmosConnectorDocument
            {
                Id = "by-resource-id",
                ResourceId = "/subscriptions/s1/resourceGroups/g1/providers/Microsoft.Web/sites/app1",
                Canary = true,
                Tags = new Dictionary<string, string> { ["region"] = "westus2", ["tier"] = "standard" },
            },
            new CosmosConnectorDocument { Id = "by-parts", SubscriptionId = "s2", ResourceGroup = "g2", FunctionAppName = "app2", State = "Active" },
            new CosmosConnectorDocument { Id = "bare" },
        ]);

        var connectors = new Dictionary<string, ConnectorTarget>(StringComparer.Ordinal);
        await foreach (var c in inventory.ListAsync())
        {
            connectors.Add(c.Id, c);
        }

        Assert.Equal("/subscriptions/s1/resourceGroups/g1/providers/Microsoft.Web/sites/app1", connectors["by-resource-id"].ResourceId);
        Assert.True(connectors["by-resource-id"].Canary);
        Assert.Equal("westus2", connectors["by-resource-id"].Tags!["region"]);
        Assert.Equal("/subscriptions/s2/resourceGroups/g2/providers/Microsoft.Web/sites/app2", connectors["by-parts"].ResourceId);
        Assert.False(connectors["by-parts"].Canary);
        Assert.Null(connectors["bare"].ResourceId);
        Assert.Null(connectors["bare"].Tags);
    }

    [Fact]
    public async Task An_unreadable_document_is_skipped_with_a_warning_and_the_rest_is_listed()
    {
        var logger = new FakeLogger<CosmosConnectorInventory>();
        var (inventory, options, container) = await NewInventoryAsync(logger: logger);
        await SeedAsync(container, [Connector("good")]);
        await CosmosServerFixture.PutRawAsync(container, """{"id":"bad-canary","canary":"yes"}""", "bad-canary");
        await CosmosServerFixture.PutRawAsync(container, """{"id":"bad-tags","tags":{"region":7}}""", "bad-tags");
        await CosmosServerFixture.PutRawAsync(container, """{"id":"half-named","subscriptionId":"s","functionAppName":"f"}""", "half-named");

        var ids = await ListIdsAsync(inventory);

        Assert.Equal(["good"], ids);
        var warnings = logger.Collector.GetSnapshot().Where(r => r.Id.Id == Skipped).ToList();
        Assert.All(warnings, w => Assert.Equal(LogLevel.Warning, w.Level));
        Assert.Equal(["bad-canary", "bad-tags", "half-named"], warnings.Select(w => w.StructuredState!.Single(s => s.Key == "Document").Value).Order(StringComparer.Ordinal));
        Assert.All(warnings, w => Assert.Contains($"{options.DatabaseName}/{options.ContainerName}", w.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_custom_query_projects_other_documents_and_exists_works_across_partitions()
    {
        var (inventory, _, container) = await NewInventoryAsync(o =>
        {
            o.PartitionKeyPath = "/tenant";
            o.Query = "SELECT c.id, c.app.resourceId AS resourceId, c.provisioningState AS state FROM c WHERE c.kind = 'iomt'";
            o.ExistsQuery = "SELECT c.id, c.provisioningState AS state FROM c WHERE c.kind = 'iomt' AND c.id = @id";
        });
        await CosmosServerFixture.PutRawAsync(container, """{"id":"a","tenant":"t1","kind":"iomt","app":{"resourceId":"/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/a"},"provisioningState":"Succeeded"}""", "t1");
        await CosmosServerFixture.PutRawAsync(container, """{"id":"b","tenant":"t2","kind":"iomt","provisioningState":"Deleting"}""", "t2");
        await CosmosServerFixture.PutRawAsync(container, """{"id":"c","tenant":"t2","kind":"fhir"}""", "t2");

        var listed = new List<ConnectorTarget>();
        await foreach (var c in inventory.ListAsync())
        {
            listed.Add(c);
        }

        var only = Assert.Single(listed);
        Assert.Equal("a", only.Id);
        Assert.Equal("/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/a", only.ResourceId);
        Assert.True(await inventory.ExistsAsync("a"));
        Assert.False(await inventory.ExistsAsync("b"));
        Assert.False(await inventory.ExistsAsync("c"));
    }

    [Fact]
    public async Task A_missing_container_is_an_error_naming_database_and_container_when_creating_is_off()
    {
        var options = fixture.Use(new CosmosConnectorInventoryOptions(), createIfMissing: false);
        var inventory = new CosmosConnectorInventory(fixture.Client, options);

        var error = await Assert.ThrowsAsync<ConnectorInventoryException>(() => inventory.ExistsAsync("x"));

        Assert.Contains($"'{options.ContainerName}'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{options.DatabaseName}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("CreateIfMissing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Creating_when_missing_makes_an_empty_inventory_with_the_configured_partition_key()
    {
        var options = fixture.Use(new CosmosConnectorInventoryOptions { PartitionKeyPath = "/subscriptionId" }, createIfMissing: true);
        var inventory = new CosmosConnectorInventory(fixture.Client, options);

        Assert.Empty(await ListIdsAsync(inventory));

        var properties = await fixture.Client.GetContainer(options.DatabaseName, options.ContainerName).ReadContainerAsync();
        Assert.Equal("/subscriptionId", properties.Resource.PartitionKeyPath);
    }

    [Fact]
    public async Task A_container_with_another_partition_key_than_configured_is_refused_by_name()
    {
        var options = fixture.Use(new CosmosConnectorInventoryOptions(), createIfMissing: false);
        await fixture.CreateContainerAsync(options.DatabaseName!, options.ContainerName!, "/tenant");
        var inventory = new CosmosConnectorInventory(fixture.Client, options);

        var error = await Assert.ThrowsAsync<ConnectorInventoryException>(() => ListIdsAsync(inventory));

        Assert.Contains("/tenant", error.Message, StringComparison.Ordinal);
        Assert.Contains(options.ContainerName!, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_throttled_listing_goes_through_the_sdk_retries_and_is_rethrown_as_the_cosmos_429()
    {
        var options = fixture.Use(new CosmosConnectorInventoryOptions(), createIfMissing: false);
        var container = await fixture.CreateContainerAsync(options.DatabaseName!, options.ContainerName!, "/id");
        await SeedAsync(container, [Connector("x")]);
        using var handler = ThrottlingHandler.Install(fixture, options, r => r.Method == HttpMethod.Post && r.RequestUri!.AbsolutePath.EndsWith("/docs", StringComparison.Ordinal));
        using var client = CosmosClientSource<CosmosConnectorInventoryOptions>.Create(options);
        var inventory = new CosmosConnectorInventory(client, options);

        var throttled = await Assert.ThrowsAsync<StoreThrottledException>(() => ListIdsAsync(inventory));
        Assert.True(throttled.IsTransient);
        var error = Assert.IsType<CosmosException>(throttled.InnerException);

        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.True(handler.Throttled >= 2, $"throttled {handler.Throttled} times: the SDK did not retry");
    }

    private static async Task<List<string>> ListIdsAsync(CosmosConnectorInventory inventory)
    {
        var ids = new List<string>();
        await foreach (var connector in inventory.ListAsync())
        {
            ids.Add(connector.Id);
        }

        return ids;
    }

    private static List<int> PageSizes(FakeLogger<CosmosConnectorInventory> logger) =>
        [.. logger.Collector.GetSnapshot()
            .Where(r => r.Id.Id == PageRead)
            .Select(r => int.Parse(r.StructuredState!.Single(s => s.Key == "ItemCount").Value!, System.Globalization.CultureInfo.InvariantCulture))];
}
