using System.Diagnostics;

namespace Kfci.Tests.Deploy;

/// <summary>Runs a program to its end with a deadline, for the tests that build what an image holds.</summary>
internal static class DotnetProcess
{
    public static async Task<(int ExitCode, string Output)> RunAsync(string directory, TimeSpan timeout, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var cancel = new CancellationTokenSource(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(cancel.Token);
        var stderr = process.StandardError.ReadToEndAsync(cancel.Token);
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>
/// A copy of the sources a publish needs (tracked and new files, no bin/ or obj/), so a publish with its own restore
/// (a runtime identifier rewrites project.assets.json) cannot disturb the builds other tests run in the checkout.
/// </summary>
internal static class IsolatedSources
{
    public static async Task<DirectoryInfo> CopyAsync(string root, params string[] paths)
    {
        var (exitCode, output) = await DotnetProcess.RunAsync(root, TimeSpan.FromMinutes(1), "git", ["ls-files", "-co", "--exclude-standard", "-z", "--", .. paths]);
        Assert.True(exitCode == 0, $"git ls-files failed: {output}");
        var copy = Directory.CreateTempSubdirectory("kfci-publish-src-");
        foreach (var file in output.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var target = Path.Combine(copy.FullName, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(Path.Combine(root, file), target);
        }

        return copy;
    }
}

/// <summary>
/// The tests that <c>dotnet publish</c> an image's content share shared/obj: run in parallel, two publishes of the same
/// project into it collide, so they run one after the other.
/// </summary>
[CollectionDefinition(Name)]
public sealed class ImagePublishCollection
{
    public const string Name = "image publish";
}
