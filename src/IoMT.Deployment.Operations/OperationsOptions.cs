using System.ComponentModel.DataAnnotations;
using IoMT.Deployment.Composition;

namespace IoMT.Deployment.Operations;

/// <summary>
/// The operator console's settings, bound from the <c>IoMTOperations</c> configuration section: who may sign in (Entra ID
/// authority and audience), which app roles read and act, and how the dashboard gets its token and refreshes.
/// </summary>
[OptionsSection(SectionName)]
public sealed class OperationsOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "IoMTOperations";

    /// <summary>The authentication scheme the console's endpoints use; a host's own default scheme is not touched.</summary>
    public const string AuthenticationScheme = "IoMTOperations";

    /// <summary>The authorization policy of every read endpoint.</summary>
    public const string ReadPolicy = "IoMTOperations.Read";

    /// <summary>The authorization policy of every action endpoint.</summary>
    public const string OperatePolicy = "IoMTOperations.Operate";

    /// <summary>Gets or sets the token issuer's authority, such as <c>https://login.microsoftonline.com/{tenant-id}/v2.0</c>.</summary>
    /// <value>
    /// Required unless the host supplies signing keys itself (the <c>configureJwtBearer</c> callback of
    /// <c>AddIoMTOperations</c>, as tests and the development sample do). Its OpenID metadata gives the signing keys and the issuer.
    /// </value>
    public string? Authority { get; set; }

    /// <summary>Gets or sets the audience tokens must carry: the console's app registration (<c>api://…</c> or its client id).</summary>
    /// <value>Required.</value>
    [Required(ErrorMessage = "{0} is required: the Application ID URI (api://…) or client id of the console's app registration, as tokens carry it in 'aud'.")]
    public string? Audience { get; set; }

    /// <summary>Gets or sets the app role that may read (every read endpoint). The operator role may read too.</summary>
    /// <value>Default <c>Deployment.Read</c>.</value>
    [Required(ErrorMessage = "{0} must name an app role.")]
    public string ReaderRole { get; set; } = "Deployment.Read";

    /// <summary>Gets or sets the app role that may act (pause, resume, promote, abort, rollback, invalidate, reinstate, pin, unpin).</summary>
    /// <value>Default <c>Deployment.Operate</c>.</value>
    [Required(ErrorMessage = "{0} must name an app role.")]
    public string OperatorRole { get; set; } = "Deployment.Operate";

    /// <summary>
    /// Gets or sets a same-origin URL the dashboard asks (GET, with the browser's cookies) for a bearer token, answered as
    /// JSON <c>{"accessToken": "…"}</c>: a backend-for-frontend or sign-in proxy in front of the console.
    /// </summary>
    /// <value>Default none: the dashboard asks the user to paste a token, kept in the tab's <c>sessionStorage</c> only.</value>
    public string? TokenEndpoint { get; set; }

    /// <summary>Gets or sets how often, in seconds, the dashboard refreshes while a rollout is active.</summary>
    /// <value>Default 5; between 1 and 3600.</value>
    [Range(1, 3600, ErrorMessage = "{0} must be between 1 and 3600.")]
    public int RefreshSeconds { get; set; } = 5;
}
