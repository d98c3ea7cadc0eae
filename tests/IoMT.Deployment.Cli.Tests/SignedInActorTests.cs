using System.Text;
using Azure.Core;
using Azure.Identity;
using IoMT.Deployment.Cli.Composition;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace IoMT.Deployment.Cli.Tests;

/// <summary>The actor a command records: the flag, else the signed-in Azure principal with --provider azure, else the OS user.</summary>
public sealed class SignedInActorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static string Jwt(string payloadJson) =>
        $"{Segment("""{"alg":"RS256","typ":"JWT"}""")}.{Segment(payloadJson)}.c2lnbmF0dXJl";

    private static string Segment(string json) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static CliSettings Settings(string provider, string actor = "os-user", bool explicitActor = false) =>
        new() { Provider = provider, Actor = actor, ActorIsExplicit = explicitActor };

    [Theory]
    [InlineData("""{"upn":"alice@contoso.com","unique_name":"other","oid":"1"}""", "alice@contoso.com")]
    [InlineData("""{"unique_name":"live.com#bob@outlook.com","oid":"1"}""", "live.com#bob@outlook.com")]
    [InlineData("""{"preferred_username":"carol@contoso.com","oid":"1"}""", "carol@contoso.com")]
    [InlineData("""{"appid":"0f3c-pipeline-app","oid":"2"}""", "0f3c-pipeline-app")]
    [InlineData("""{"azp":"v2-app","oid":"2"}""", "v2-app")]
    [InlineData("""{"oid":"6b1e-object","sub":"s"}""", "6b1e-object")]
    [InlineData("""{"upn":"  ","oid":"7"}""", "7")]
    public void The_principal_is_named_by_its_most_readable_claim(string payload, string expected) =>
        Assert.Equal(expected, SignedInActor.NameOf(Jwt(payload)));

    [Theory]
    [InlineData("opaque-token")]
    [InlineData("a.b")]
    [InlineData("a.!!!.c")]
    [InlineData("a..c")]
    public void A_token_that_is_not_a_JWT_names_nobody(string token) =>
        Assert.Null(SignedInActor.NameOf(token));

    [Fact]
    public void A_JWT_without_a_name_claim_or_with_a_non_object_payload_names_nobody()
    {
        Assert.Null(SignedInActor.NameOf(Jwt("""{"aud":"x","tid":"y"}""")));
        Assert.Null(SignedInActor.NameOf(Jwt("""["upn"]""")));
    }

    [Fact]
    public async Task With_the_azure_provider_the_signed_in_principal_is_recorded()
    {
        var credential = new FakeCredential(Jwt("""{"upn":"alice@contoso.com"}"""));
        var actor = await SignedInActor.ResolveAsync(Settings("azure"), credential, new FakeLogger(), Timeout, CancellationToken.None);
        Assert.Equal("alice@contoso.com", actor);
        Assert.Equal([SignedInActor.Scope], credential.Scopes);
    }

    [Fact]
    public async Task An_explicit_actor_wins_and_no_token_is_asked_for()
    {
        var credential = new FakeCredential(Jwt("""{"upn":"alice@contoso.com"}"""));
        var actor = await SignedInActor.ResolveAsync(Settings("azure", "release-pipeline", explicitActor: true), credential, new FakeLogger(), Timeout, CancellationToken.None);
        Assert.Equal("release-pipeline", actor);
        Assert.Empty(credential.Scopes);
    }

    [Fact]
    public async Task The_local_provider_records_the_operating_system_user()
    {
        var credential = new FakeCredential(Jwt("""{"upn":"alice@contoso.com"}"""));
        Assert.Equal("os-user", await SignedInActor.ResolveAsync(Settings("local"), credential, new FakeLogger(), Timeout, CancellationToken.None));
        Assert.Empty(credential.Scopes);
    }

    [Fact]
    public async Task A_principal_that_cannot_sign_in_falls_back_to_the_operating_system_user_with_a_warning()
    {
        var logger = new FakeLogger();
        var credential = new FakeCredential(error: new CredentialUnavailableException("DefaultAzureCredential failed to retrieve a token"));
        Assert.Equal("os-user", await SignedInActor.ResolveAsync(Settings("azure"), credential, logger, Timeout, CancellationToken.None));
        var record = Assert.Single(logger.Collector.GetSnapshot());
        Assert.Equal(5007, record.Id.Id);
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.Contains("DefaultAzureCredential failed", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sign_in_that_takes_too_long_falls_back_but_the_commands_own_cancellation_propagates()
    {
        var hanging = new FakeCredential(hang: true);
        Assert.Equal("os-user", await SignedInActor.ResolveAsync(Settings("azure"), hanging, new FakeLogger(), TimeSpan.FromMilliseconds(1), CancellationToken.None));

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => SignedInActor.ResolveAsync(Settings("azure"), hanging, new FakeLogger(), Timeout, cancelled.Token));
    }

    private sealed class FakeCredential(string? token = null, Exception? error = null, bool hang = false) : TokenCredential
    {
        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.AddRange(requestContext.Scopes);
            if (hang)
            {
                await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, cancellationToken);
            }

            return error is not null ? throw error : new AccessToken(token!, DateTimeOffset.UtcNow.AddHours(1));
        }
    }
}
