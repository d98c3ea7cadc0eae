using System.CommandLine;
using IoMT.Deployment.Cli.Composition;
using IoMT.Deployment.Cli.Output;

namespace IoMT.Deployment.Cli.Commands;

/// <summary><c>invalidate</c> and <c>reinstate</c>: a build's validity, without touching connectors.</summary>
internal static class BuildCommands
{
    /// <summary>Creates <c>invalidate &lt;build&gt; --reason &lt;text&gt;</c>.</summary>
    public static Command Invalidate(CommandRunner runner)
    {
        var build = BuildArgument("The build to invalidate; it must be delivered.");
        var reason = GlobalOptions.CreateReason("Why the build is bad; recorded with the invalidation.");
        var actor = GlobalOptions.CreateActor();
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("invalidate", "Marks a build invalid so that no update picks it again. Connectors are not touched: to move them off it, use rollback.")
        {
            build,
            reason,
            actor,
            format,
        };
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, ActorFlag(actor), async (parse, session, cancellationToken) =>
        {
            var number = parse.GetRequiredValue(build);
            var text = parse.GetRequiredValue(reason);
            var who = await session.ResolveActorAsync(cancellationToken).ConfigureAwait(false);
            var changed = await session.Engine.InvalidateAsync(number, text, who, cancellationToken).ConfigureAwait(false);
            session.Emit(new BuildStateChangeResult(number.ToString(), Invalidated: true, changed, who, text), TextOutput.Write);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>Creates <c>reinstate &lt;build&gt;</c>.</summary>
    public static Command Reinstate(CommandRunner runner)
    {
        var build = BuildArgument("The invalidated build to make valid again.");
        var actor = GlobalOptions.CreateActor();
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("reinstate", "Removes a build's invalidation; the next update may pick it again.")
        {
            build,
            actor,
            format,
        };
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, ActorFlag(actor), async (parse, session, cancellationToken) =>
        {
            var number = parse.GetRequiredValue(build);
            var who = await session.ResolveActorAsync(cancellationToken).ConfigureAwait(false);
            var changed = await session.Engine.ReinstateAsync(number, who, cancellationToken).ConfigureAwait(false);
            session.Emit(new BuildStateChangeResult(number.ToString(), Invalidated: false, changed, who, Reason: null), TextOutput.Write);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<BuildNumber> BuildArgument(string description) => new("build")
    {
        Description = description,
        CustomParser = r => GlobalOptions.ParseBuild(r, "<build>"),
    };

    /// <summary>Reads <c>--actor</c> as the <c>Actor</c> setting.</summary>
    public static Func<ParseResult, IEnumerable<KeyValuePair<string, string?>>> ActorFlag(Option<string?> actor) =>
        parse => [new("Actor", parse.GetValue(actor))];
}
