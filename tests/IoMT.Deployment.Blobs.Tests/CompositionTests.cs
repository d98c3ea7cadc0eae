using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using static IoMT.Deployment.Blobs.Tests.TestPackages;

namespace IoMT.Deployment.Blobs.Tests;

[Collection(AzuriteCollection.Name)]
public sealed class CompositionTests(AzuriteFixture azurite) : IDisposable
{
    private readonly string _localRoot = Path.Combine(Path.GetTempPath(), "iomt-blobs-di-" + Guid.NewGuid().ToString("N"));

    public void Dispose() => AzuriteFixture.DeleteDirectory(_localRoot);

    [Fact]
    public async Task AddBlobArtifacts_with_a_connection_string_registers_the_read_side_and_no_publisher()
    {
        var container = await azurite.CreateContainerAsync();
        var published = await new BlobArtifactPublisher(container).PublishAsync(Build("12"), new MemoryStream(Zip(12)));
        var services = new ServiceCollection().AddLogging();
        services.AddIoMTDeployment()
            .AddBlobArtifacts(azurite.ConnectionString, AzuriteFixture.ClientOptions(), o => o.ContainerName = container.Name);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var source = provider.GetRequiredService<IArtifactSource>();

        Assert.IsType<BlobArtifactSource>(source);
        Assert.Null(provider.GetService<IArtifactPublisher>());
        Assert.Same(source, provider.GetRequiredService<BlobArtifactSource>());
        var listed = Assert.Single(await source.ListAsync().ToListAsync());
        Assert.Equal(published.Sha256, listed.Sha256);
    }

    [Fact]
    public void The_blob_adapters_deliberately_take_over_from_the_core_local_defaults()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddIoMTDeployment()
            .AddLocalProvider(o => o.Root = _localRoot)
            .AddLocalArtifactPublisher()
            .AddBlobArtifacts(azurite.ConnectionString)
            .AddBlobArtifactPublisher(azurite.ConnectionString)
            .AddBlobRolloutLock(azurite.ConnectionString);
        using var provider = services.BuildServiceProvider();

        Assert.IsType<BlobArtifactSource>(provider.GetRequiredService<IArtifactSource>());
        Assert.IsType<BlobArtifactPublisher>(provider.GetRequiredService<IArtifactPublisher>());
        Assert.IsType<BlobRolloutLock>(provider.GetRequiredService<IRolloutLock>());
        Assert.Single(services, d => d.ServiceType == typeof(IArtifactSource));
        Assert.Single(services, d => d.ServiceType == typeof(IArtifactPublisher));
        Assert.Single(services, d => d.ServiceType == typeof(IRolloutLock));
    }

    [Fact]
    public void A_second_call_is_harmless_and_keeps_the_first_client()
    {
        var services = new ServiceCollection();
        var builder = services.AddIoMTDeployment();
        builder.AddBlobArtifacts(azurite.ConnectionString, configure: o => o.ContainerName = "first")
            .AddBlobArtifacts(azurite.ConnectionString, configure: o => o.ListPageSize = 10)
            .AddBlobRolloutLock(azurite.ConnectionString)
            .AddBlobRolloutLock(azurite.ConnectionString);
        using var provider = services.BuildServiceProvider();

        Assert.Single(services, d => d.ServiceType == typeof(IArtifactSource));
        Assert.Single(services, d => d.ServiceType == typeof(BlobArtifactSource));
        Assert.Single(services, d => d.ServiceType == typeof(IValidateOptions<BlobArtifactOptions>));
        Assert.Single(services, d => d.ServiceType == typeof(IRolloutLock));
        Assert.Equal("first", provider.GetRequiredService<BlobArtifactSource>().ContainerName);
        Assert.Equal(10, provider.GetRequiredService<IOptions<BlobArtifactOptions>>().Value.ListPageSize);
    }

    [Theory]
    [InlineData("Artifacts", "IoMTDeployment:Blobs:ContainerName")]
    [InlineData("ab", "IoMTDeployment:Blobs:ContainerName")]
    [InlineData("two--hyphens", "IoMTDeployment:Blobs:ContainerName")]
    [InlineData("-leading", "IoMTDeployment:Blobs:ContainerName")]
    public void An_invalid_container_name_fails_at_start_naming_the_setting(string containerName, string setting)
    {
        var services = new ServiceCollection();
        services.AddIoMTDeployment().AddBlobArtifacts(azurite.ConnectionString, configure: o => o.ContainerName = containerName);
        using var provider = services.BuildServiceProvider();

        var atStart = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());
        var onResolve = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IArtifactSource>());

        Assert.Contains(setting, atStart.Message, StringComparison.Ordinal);
        Assert.Contains(setting, onResolve.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_invalid_settings_fail_naming_each_setting()
    {
        var services = new ServiceCollection();
        services.AddIoMTDeployment()
            .AddBlobArtifactPublisher(azurite.ConnectionString, configure: o =>
            {
                o.ListPageSize = 0;
                o.UploadBlockSize = 1024;
                o.UploadConcurrency = 0;
            })
            .AddBlobRolloutLock(azurite.ConnectionString, configure: o => o.RenewInterval = TimeSpan.FromSeconds(60));
        using var provider = services.BuildServiceProvider();

        var artifacts = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IArtifactPublisher>());
        var rolloutLock = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IRolloutLock>());

        Assert.Contains("IoMTDeployment:Blobs:ListPageSize", artifacts.Message, StringComparison.Ordinal);
        Assert.Contains("IoMTDeployment:Blobs:UploadBlockSize", artifacts.Message, StringComparison.Ordinal);
        Assert.Contains("IoMTDeployment:Blobs:UploadConcurrency", artifacts.Message, StringComparison.Ordinal);
        Assert.Contains("IoMTDeployment:BlobLock:RenewInterval", rolloutLock.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_connection_string_is_refused_without_echoing_it()
    {
        var services = new ServiceCollection();
        var builder = services.AddIoMTDeployment();

        var refused = Assert.Throws<ArgumentException>(() => builder.AddBlobArtifacts("AccountName=devstoreaccount1;AccountKey=c2VjcmV0LWtleQ==;Nonsense"));

        Assert.Equal("connectionString", refused.ParamName);
        for (Exception? e = refused; e is not null; e = e.InnerException)
        {
            Assert.DoesNotContain("c2VjcmV0LWtleQ", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_service_uri_alone_composes_the_read_side_and_the_lock()
    {
        var services = new ServiceCollection();
        services.AddIoMTDeployment()
            .UseCredential(new Azure.Identity.ClientSecretCredential("tenant", "client", "not-a-secret"))
            .AddBlobArtifacts(new Uri("https://account.blob.core.windows.net"), configure: o => o.ContainerName = "artifacts")
            .AddBlobRolloutLock(new Uri("https://account.blob.core.windows.net"));
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();

        var source = Assert.IsType<BlobArtifactSource>(provider.GetRequiredService<IArtifactSource>());
        var rolloutLock = Assert.IsType<BlobRolloutLock>(provider.GetRequiredService<IRolloutLock>());

        Assert.Equal("artifacts", source.ContainerName);
        Assert.Equal("iomt-rollout-lock/rollout.lock", rolloutLock.LockBlob);
        Assert.Null(provider.GetService<IArtifactPublisher>());
    }

    [Fact]
    public void A_service_uri_without_the_builders_credential_fails_at_start_naming_the_call_to_make()
    {
        var services = new ServiceCollection();
        services.AddIoMTDeployment()
            .AddBlobArtifacts(new Uri("https://account.blob.core.windows.net"), configure: o => o.ContainerName = "artifacts")
            .AddBlobRolloutLock(new Uri("https://account.blob.core.windows.net"));
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<AggregateException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        var messages = error.InnerExceptions.OfType<OptionsValidationException>().SelectMany(e => e.Failures).ToList();
        Assert.Contains(messages, m => m.StartsWith("AddBlobArtifacts(serviceUri) needs an Azure credential and none is set: call .UseCredential(credential)", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("AddBlobRolloutLock(serviceUri) needs an Azure credential", StringComparison.Ordinal));
        Assert.Contains(".UseCredential(", Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IArtifactSource>()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clients_registered_in_DI_are_used()
    {
        var artifacts = await azurite.CreateContainerAsync();
        var lockContainer = await azurite.CreateContainerAsync();
        var services = new ServiceCollection();
        services.AddSingleton(azurite.CreateServiceClient());
        services.AddKeyedSingleton("lock", lockContainer);
        services.AddIoMTDeployment()
            .AddBlobArtifacts(o => o.ContainerName = artifacts.Name)
            .AddBlobArtifactPublisher()
            .AddBlobRolloutLock(sp => sp.GetRequiredKeyedService<BlobContainerClient>("lock"), o => o.LockBlobName = "locks/worker");
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<IArtifactPublisher>().PublishAsync(Build("1"), new MemoryStream(Zip(1)));
        await using var lease = await provider.GetRequiredService<IRolloutLock>().TryAcquireAsync("di");

        Assert.Equal(Build("1"), Assert.Single(await provider.GetRequiredService<IArtifactSource>().ListAsync().ToListAsync()).Build);
        Assert.NotNull(lease);
        Assert.True(await lockContainer.GetBlobClient("locks/worker").ExistsAsync());
    }

    [Fact]
    public async Task The_lock_from_DI_renews_on_the_registered_TimeProvider()
    {
        var lockContainer = await azurite.CreateContainerAsync();
        var time = new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddIoMTDeployment().AddBlobRolloutLock(_ => lockContainer);
        await using var provider = services.BuildServiceProvider();
        await using var lease = await provider.GetRequiredService<IRolloutLock>().TryAcquireAsync("di");
        Assert.NotNull(lease);

        await lockContainer.GetBlobClient(BlobRolloutLockOptions.DefaultLockBlobName).GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
        time.Advance(new BlobRolloutLockOptions().RenewInterval);

        await lease.LeaseLost.WhenCancelledAsync(TimeSpan.FromSeconds(30));
    }
}
