using System.CommandLine;
using Kfci.Cli.Commands;
using Kfci.Cli.Local;
using Kfci.Cli.OnCall;

namespace Kfci.Cli.CommandLine;

/// <summary>The <c>kfci</c> command tree, and running it so that every error, the parser's included, exits 2.</summary>
public static class KfciCli
{
    public static RootCommand Create(Func<string, string?>? environment = null)
    {
        var root = new RootCommand("kfci: Prow-triggered Argo end-to-end tests on Google Cloud, and the tools on-call people drive them with.");
        root.Subcommands.Add(LocalCommands.Create());
        foreach (var command in new OnCallCommands(environment).Create())
        {
            root.Subcommands.Add(command);
        }

        root.Subcommands.Add(new WaitCommand(environment).Create());
        root.Subcommands.Add(JanitorCommands.Create());
        root.Subcommands.Add(PoolCommand.Create());
        root.Subcommands.Add(PlanCommand.Create());
        root.Subcommands.Add(new DashboardCommand(environment).Create());
        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>. System.CommandLine answers its own parse errors with exit 1, which kfci
    /// reserves for "the thing run failed"; here they are one line each on stderr and exit 2 like any other bad input.
    /// </summary>
    public static async Task<int> RunAsync(RootCommand root, string[] args, InvocationConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        configuration ??= new InvocationConfiguration();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                await configuration.Error.WriteLineAsync($"kfci: {error.Message} (see {CommandPath(parse)} --help)");
            }

            return ExitCodes.Error;
        }

        return await parse.InvokeAsync(configuration);
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string> { "kfci" };
        for (var result = parse.CommandResult; result.Parent is System.CommandLine.Parsing.CommandResult parent; result = parent)
        {
            names.Insert(1, result.Command.Name);
        }

        return string.Join(' ', names);
    }
}
