using IoMT.Deployment.Cli;

return await CliApplication.RunAsync(args, CliConsole.FromSystem()).ConfigureAwait(false);
