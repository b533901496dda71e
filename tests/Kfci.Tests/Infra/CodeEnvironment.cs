using System.Text.RegularExpressions;

namespace Kfci.Tests.Infra;

/// <summary>
/// The environment variables kfci's C# code reads: <c>KfciEnvironment.X</c> usages (mapped to names
/// through the constants of shared/Configuration/KfciEnvironment.cs) and <c>"KFCI_..."</c> literals.
/// </summary>
internal sealed partial record CodeEnvironment(
    IReadOnlyDictionary<string, IReadOnlySet<string>> ReadByFunctionDirectory,
    IReadOnlySet<string> ReadByShared,
    IReadOnlySet<string> Known)
{
    private const string ConstantsFile = "shared/Configuration/KfciEnvironment.cs";

    /// <summary>Scans <c>functions/</c> and <c>shared/</c> under <paramref name="root"/> (bin/obj excluded).</summary>
    public static CodeEnvironment Scan(string root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var constants = ConstantPattern().Matches(File.ReadAllText(Path.Combine(root, ConstantsFile)))
            .ToDictionary(m => m.Groups["member"].Value, m => m.Groups["value"].Value, StringComparer.Ordinal);

        var byFunction = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (var directory in Directory.GetDirectories(Path.Combine(root, "functions")).Order(StringComparer.Ordinal))
        {
            byFunction["functions/" + Path.GetFileName(directory)] = Reads(root, directory, constants);
        }

        var shared = Reads(root, Path.Combine(root, "shared"), constants);
        var known = constants.Values.Concat(shared).Concat(byFunction.Values.SelectMany(s => s)).ToHashSet(StringComparer.Ordinal);
        return new CodeEnvironment(byFunction, shared, known);
    }

    private static HashSet<string> Reads(string root, string directory, Dictionary<string, string> constants)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var sources = Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
            .Where(f => !IsBuildOutput(Path.GetRelativePath(root, f)) && Path.GetRelativePath(root, f).Replace('\\', '/') != ConstantsFile);
        foreach (var source in sources)
        {
            var text = File.ReadAllText(source);
            foreach (Match usage in UsagePattern().Matches(text))
            {
                if (constants.TryGetValue(usage.Groups[1].Value, out var name))
                {
                    names.Add(name);
                }
            }

            names.UnionWith(LiteralPattern().Matches(text).Select(m => m.Groups[1].Value));
        }

        return names;
    }

    private static bool IsBuildOutput(string relativePath) =>
        relativePath.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar).Any(part => part is "bin" or "obj");

    [GeneratedRegex(@"const\s+string\s+(?<member>\w+)\s*=\s*""(?<value>[^""]+)""")]
    private static partial Regex ConstantPattern();

    [GeneratedRegex(@"\bKfciEnvironment\.(\w+)")]
    private static partial Regex UsagePattern();

    [GeneratedRegex(@"""(KFCI_[A-Z0-9_]+)""")]
    private static partial Regex LiteralPattern();
}
