using System.CommandLine;
using Kfci.Cli.Commands;
using Kfci.Cli.Local;

var root = new RootCommand("kfci: Prow-triggered Argo end-to-end tests on Google Cloud, and the tools on-call people drive them with.");
root.Subcommands.Add(LocalCommands.Create());
root.Subcommands.Add(JanitorCommands.Create());
root.Subcommands.Add(PoolCommand.Create());
root.Subcommands.Add(PlanCommand.Create());
return await root.Parse(args).InvokeAsync();
