using System.CommandLine;
using IoMT.Deployment.Cli.Composition;
using IoMT.Deployment.Cli.Output;

namespace IoMT.Deployment.Cli.Commands;

/// <summary><c>rollout status|pause|resume|promote|abort</c>: the progressive rollout's view and the operator's commands.</summary>
internal static class RolloutCommands
{
    /// <summary>Creates <c>rollout</c> and its subcommands.</summary>
    public static Command Rollout(CommandRunner runner)
    {
        var command = new Command("rollout", "Shows the active (or latest) progressive rollout and gives it operator commands; each is recorded with actor, reason and time and takes effect at the next tick (update). Exit 3 when no rollout is active or the command does not apply to its status.");
        command.Subcommands.Add(Status(runner));
        command.Subcommands.Add(Operator(runner, "pause", "Pauses the rollout: no deployment is started until resume. The wave being deployed stops starting connectors.", OperatorAction.Pause, reasonRequired: true));
        command.Subcommands.Add(Operator(runner, "resume", "Resumes a paused rollout from where it stood (a gate paused for lack of health data is judged again).", OperatorAction.Resume, reasonRequired: false));
        command.Subcommands.Add(Operator(runner, "promote", "Ends the current bake or approval now (a gate paused for lack of health data passes); with --full, deploys every remaining wave now, each still verified and held to its threshold.", OperatorAction.Promote, reasonRequired: false));
        command.Subcommands.Add(Operator(runner, "abort", "Aborts the rollout: invalidates its target and brings the connectors that received it back to the previous build; the others are not touched.", OperatorAction.Abort, reasonRequired: true));
        return command;
    }

    private static Command Status(CommandRunner runner)
    {
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var command = new Command("status", "Shows the active or latest rollout: status, target, waves (connectors, updated, failed, unhealthy, status), bake end, reason, failed connectors, operator commands; and the pinned and excluded connectors. Changes nothing.")
        {
            format,
        };
        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, flags: null, async (parse, session, cancellationToken) =>
        {
            var state = await session.ReadStateAsync(cancellationToken).ConfigureAwait(false);
            session.Emit(new RolloutStatusResult(state.Current?.ToString(), RolloutStateResult.Of(state.Rollout), PinResult.Of(state, fleet: null)), TextOutput.Write);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Operator(CommandRunner runner, string name, string description, OperatorAction action, bool reasonRequired)
    {
        var reason = GlobalOptions.CreateReason(reasonRequired ? "Why; recorded with the command (required)." : "Why; recorded with the command.", reasonRequired);
        var actor = GlobalOptions.CreateActor();
        var format = GlobalOptions.CreateFormat("--output", "--format");
        var full = action == OperatorAction.Promote
            ? new Option<bool>("--full") { Description = "Deploy every remaining wave now, without bakes or approvals; each wave is still verified and held to its failure threshold." }
            : null;
        var command = new Command(name, description)
        {
            reason,
            actor,
            format,
        };
        if (full is not null)
        {
            command.Options.Add(full);
        }

        runner.SetAction(command, format, CommandNeeds.Engine, requireExistingRoot: true, BuildCommands.ActorFlag(actor), async (parse, session, cancellationToken) =>
        {
            var given = full is not null && parse.GetValue(full) ? OperatorAction.PromoteFull : action;
            var why = parse.GetValue(reason);
            var who = await session.ResolveActorAsync(cancellationToken).ConfigureAwait(false);
            var rollout = await session.Engine.CommandAsync(given, who, why, cancellationToken).ConfigureAwait(false);
            session.Emit(new RolloutCommandResult(given, who, why, RolloutStateResult.Of(rollout)!), TextOutput.Write);
            return ExitCodes.Success;
        });
        return command;
    }
}
