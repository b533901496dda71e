using System.CommandLine;
using Kfci.Cli.CommandLine;
using Kfci.Configuration;
using Kfci.Janitor;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Kfci.Cli.Commands;

/// <summary><c>kfci janitor plan</c>: what a sweep would delete and keep, and why, from an inventory file; <c>kfci janitor sweep</c>: a real sweep, the function's code.</summary>
public static class JanitorCommands
{
    public static Command Create()
    {
        var janitor = new Command("janitor", "Find and delete the cloud resources tests leaked.");
        janitor.Subcommands.Add(Plan());
        janitor.Subcommands.Add(Sweep());
        return janitor;
    }

    private static Command Sweep()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "List and plan, delete nothing." };
        var config = new Option<string?>("--config") { Description = "Janitor configuration YAML naming projects, testCluster and zones/regions (else KFCI_JANITOR_CONFIG; there is no default)." };
        var types = new Option<string?>("--types") { Description = "Comma-separated types to sweep, e.g. workflow,gke-cluster (default: the configuration's)." };
        var command = new Command("sweep", "Sweep now with the Janitor function's code: list, plan, delete, report to Firestore sweeps/. Exit 0 all done, 1 partial, 2 could not run.")
        {
            dryRun, config, types,
        };
        CliAction.Set(command, async (parse, cancellationToken) =>
        {
            var request = new SweepRequest(
                DryRun: parse.GetValue(dryRun) ? true : null,
                Types: parse.GetValue(types) is { } list ? ParseTypes(list) : null);
            var services = new ServiceCollection()
                .AddLogging(logging => logging
                    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace)
                    .SetMinimumLevel(LogLevel.Warning)
                    .AddFilter<ConsoleLoggerProvider>(typeof(Sweeper).FullName, LogLevel.None))
                .AddKfciAdapters()
                .AddJanitor();
            await using var provider = services.BuildServiceProvider();
            var baseConfig = parse.GetValue(config) is { } path ? JanitorConfigYaml.Load(path) : provider.GetRequiredService<JanitorConfig>();
            var sweepId = $"cli-{DateTimeOffset.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{Guid.NewGuid().ToString("N")[..6]}";
            var report = await provider.GetRequiredService<SweepRunner>().RunAsync(sweepId, request.Apply(baseConfig), cancellationToken)
                ?? throw new CliException("another sweep holds the lease (Firestore locks/janitor-sweep); try again when it has finished");
            parse.InvocationConfiguration.Output.WriteLine(report.Summary());
            return report.Outcome switch
            {
                SweepOutcomes.Succeeded => ExitCodes.Success,
                SweepOutcomes.Partial => ExitCodes.Failure,
                _ => ExitCodes.Error,
            };
        });
        return command;
    }

    private static IReadOnlySet<ResourceType> ParseTypes(string list)
    {
        try
        {
            return SweepRequest.ParseTypeList(list);
        }
        catch (SweepRequestException e)
        {
            throw new CliException($"--types: {e.Message}");
        }
    }

    private static Command Plan()
    {
        var inventory = new Option<string?>("--inventory") { Description = "Inventory JSON: {\"resources\":[{\"type\",\"name\",\"location\",\"created\",…}]} (required)." };
        var config = new Option<string?>("--config") { Description = "Janitor configuration YAML (left out: the rules' defaults, with no test cluster to protect)." };
        var now = new Option<string?>("--now") { Description = "Decide as of this RFC 3339 time instead of the clock." };
        var format = new Option<string?>("--format") { Description = "table (default) or json." };
        var command = new Command("plan", "Decide delete or keep for every resource of an inventory, in sweep order, with the rule and reason.")
        {
            inventory, config, now, format,
        };
        CliAction.Set(command, (parse, _) =>
        {
            var output = OutputFormat(parse.GetValue(format));
            var resources = InventoryJson.Parse(File.ReadAllText(CliInputs.Required(parse.GetValue(inventory), "--inventory FILE")));
            var planner = new JanitorPlanner(parse.GetValue(config) is { } path ? JanitorConfigYaml.Load(path) : JanitorConfig.Default);
            var decisions = planner.Plan(resources, CliInputs.Now(parse.GetValue(now)));
            var writer = parse.InvocationConfiguration.Output;
            writer.WriteLine(output == "json" ? PlanJson.Write(decisions) : PlanTable.Format(decisions));
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static string OutputFormat(string? format) => (format ?? "table") switch
    {
        "table" => "table",
        "json" => "json",
        _ => throw new CliException($"--format {format}: use table or json"),
    };
}
