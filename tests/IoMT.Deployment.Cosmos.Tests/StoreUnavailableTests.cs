using System.Diagnostics;
using IoMT.Deployment.Testing;
using Microsoft.Azure.Cosmos;

namespace IoMT.Deployment.Cosmos.Tests;

[Collection(CosmosServerCollection.Name)]
public sealed class StoreUnavailableTests(CosmosServerFixture fixture)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task An_unreachable_account_gives_StoreUnavailableException_naming_the_store_endpoint_and_operation_within_the_bound()
    {
        var endpoint = new Uri($"https://127.0.0.1:{FreePort.Next()}/");
        using var client = Client(endpoint);
        var store = new CosmosVersionStore(client, new CosmosVersionStoreOptions { DatabaseName = "iomt" });
        var inventory = new CosmosConnectorInventory(client, new CosmosConnectorInventoryOptions { DatabaseName = "iomt" });
        var started = Stopwatch.GetTimestamp();

        var onRead = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.ReadAsync());
        var onList = await Assert.ThrowsAsync<StoreUnavailableException>(() => inventory.ListAsync().ToListAsync().AsTask());

        Assert.True(Stopwatch.GetElapsedTime(started) < 2 * (Bound + TimeSpan.FromSeconds(2)), $"Each failed within about {Bound}; took {Stopwatch.GetElapsedTime(started)}.");
        Assert.Equal(StoreUnavailableException.VersionStore, onRead.Store);
        Assert.Equal(StoreUnavailableException.ConnectorInventory, onList.Store);
        Assert.All([onRead, onList], e =>
        {
            Assert.True(e.IsTransient);
            Assert.StartsWith(endpoint.AbsoluteUri + "iomt/", e.Endpoint, StringComparison.Ordinal);
            Assert.Contains(e.Endpoint, e.Message, StringComparison.Ordinal);
        });
        Assert.Contains("version store", onRead.Message, StringComparison.Ordinal);
        Assert.Contains("connector inventory", onList.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_account_that_stops_answering_gives_StoreUnavailableException_within_the_bound_and_writes_nothing()
    {
        await using var relay = TcpRelay.Start(fixture.Endpoint.Port);
        using var client = Client(new Uri($"https://127.0.0.1:{relay.Port}/"));
        var options = fixture.Use(new CosmosVersionStoreOptions());
        options.OperationTimeout = Bound;
        var store = new CosmosVersionStore(client, options);
        var written = await store.WriteAsync(new VersionState { Current = BuildNumber.Parse("1") }, expectedETag: null);

        relay.Mode = RelayMode.Hold;
        var started = Stopwatch.GetTimestamp();
        var onWrite = await Assert.ThrowsAsync<StoreUnavailableException>(() => store.WriteAsync(new VersionState { Current = BuildNumber.Parse("2") }, written));

        Assert.True(Stopwatch.GetElapsedTime(started) < Bound + TimeSpan.FromSeconds(2), $"Failed within about {Bound}; took {Stopwatch.GetElapsedTime(started)}.");
        Assert.Contains("could not write the version state", onWrite.Message, StringComparison.Ordinal);
        Assert.Equal(BuildNumber.Parse("1"), (await new CosmosVersionStore(fixture.Client, options).ReadAsync()).State.Current);
    }

    private CosmosClient Client(Uri endpoint)
    {
        var options = new CosmosClientOptions();
        fixture.ConfigureClient(options);
        return new CosmosClient(endpoint.AbsoluteUri, CosmosServerFixture.AccountKey, CosmosClientTimeouts.Bound(options, Bound));
    }
}
