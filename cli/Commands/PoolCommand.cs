using System.CommandLine;
using Kfci.Cli.CommandLine;
using Kfci.Janitor;

namespace Kfci.Cli.Commands;

/// <summary><c>kfci pool next</c>: the name for the next deployment of a release pool.</summary>
public static class PoolCommand
{
    public static Command Create()
    {
        var pool = new Command("pool", "Release pools: fixed deployment names kf-<version>-nNN that releases cycle through.");
        pool.Subcommands.Add(Next());
        return pool;
    }

    private static Command Next()
    {
        var baseName = new Option<string?>("--base") { Description = "The pool's name prefix, e.g. kf-vmaster or kf-v1-2 (required)." };
        var size = new Option<string?>("--size") { Description = $"How many slots the pool has, 1 to {ReleasePool.MaxSize} (default 5)." };
        var inventory = new Option<string?>("--inventory") { Description = "Inventory JSON whose dm-deployment resources are the existing deployments (created = insertTime)." };
        var command = new Command("next", "Print the name of the pool's lowest free slot, or of its oldest deployment to recycle; the reason goes to stderr.")
        {
            baseName, size, inventory,
        };
        CliAction.Set(command, (parse, _) =>
        {
            var pool = CliInputs.Required(parse.GetValue(baseName), "--base NAME");
            var slots = CliInputs.Int(parse.GetValue(size), "--size", 5);
            var file = parse.GetValue(inventory)
                ?? throw new CliException("--inventory FILE is required (listing the live deployments is not implemented yet)");
            var existing = InventoryJson.Parse(File.ReadAllText(file))
                .Where(resource => resource.Type == ResourceType.DmDeployment)
                .Select(resource => new PoolDeployment(resource.Name, resource.Created ?? resource.FirstSeen));
            var slot = ReleasePool.Next(pool, slots, existing);
            parse.InvocationConfiguration.Output.WriteLine(slot.Name);
            parse.InvocationConfiguration.Error.WriteLine(slot.Reason);
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }
}
