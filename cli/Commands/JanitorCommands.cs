using System.CommandLine;
using Kfci.Cli.CommandLine;
using Kfci.Janitor;

namespace Kfci.Cli.Commands;

/// <summary><c>kfci janitor plan</c>: what a sweep would delete and keep, and why, from an inventory file.</summary>
public static class JanitorCommands
{
    public static Command Create()
    {
        var janitor = new Command("janitor", "Find and delete the cloud resources tests leaked.");
        janitor.Subcommands.Add(Plan());
        return janitor;
    }

    private static Command Plan()
    {
        var inventory = new Option<string?>("--inventory") { Description = "Inventory JSON: {\"resources\":[{\"type\",\"name\",\"location\",\"created\",…}]} (required)." };
        var config = new Option<string?>("--config") { Description = "Janitor configuration YAML (defaults when left out)." };
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
