using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Xml;
using Kfci.Functions.Uploader;
using Kfci.Prow;
using Kfci.ProwConfig;
using Kfci.Runs;
using Kfci.Workflows;

namespace Kfci.Benchmarks;

/// <summary>
/// <c>fuzz [--count N] [--seed S] [--timeout-ms T] [--out DIR]</c>: N (default 10,000) mutated <c>prow_config.yaml</c> files, workflow YAMLs, junit
/// reports and Pub/Sub push bodies each, through the real parsers. Each input must end with its parser's own refusal or a
/// result within the timeout; anything else (another exception type, a timeout) is a finding, printed with its seed
/// and index and saved under DIR so it can be replayed. Reports counts per kind and outcome, each kind's slowest input
/// (saved too) and the process's peak memory.
/// </summary>
internal static class FuzzProgram
{
    private const string Config = """
        workflows:
          - name: unit
            job_types: [presubmit, postsubmit]
            include_dirs: [calc/*, tests/*]
            exclude_dirs: [docs/*]
            workflow: test/workflows/unit-tests.yaml
            params: {python: "3.12", shards: 2}
          - name: docs
            workflow: test/workflows/docs-check.yaml
        python_paths: [a/b]
        """;

    private const string Workflow = """
        apiVersion: argoproj.io/v1alpha1
        kind: Workflow
        metadata: {generateName: e2e-, labels: {team: x}}
        spec:
          entrypoint: main
          arguments: {parameters: [{name: cluster, value: c}]}
          volumes: [{name: v, persistentVolumeClaim: {claimName: "{{workflow.parameters.nfs_claim}}"}}]
          templates:
          - name: main
            steps: [[{name: a, template: step}]]
          - name: step
            container: {image: busybox, command: [sh, -c, "echo &anchor hi"], env: [{name: A, value: b}], volumeMounts: [{name: v, mountPath: /mnt}]}
        """;

    private const string JunitReport = """
        <?xml version="1.0" encoding="utf-8"?>
        <testsuites failures="1"><testsuite name="s" tests="2" failures="1"><testcase name="a"/><testcase name="b"><failure message="x">boom</failure></testcase></testsuite></testsuites>
        """;

    // A crier report as Prow publishes it (refs is a list; the build id comes from gcs_path/url/runid).
    private const string Envelope = """
        {"project":"p","topic":"prow-results","runid":"100","status":"triggered","url":"https://prow.example/view/gs/b/pr-logs/pull/kubeflow_testing/7/kubeflow-testing-presubmit/100","gcs_path":"gs://b/pr-logs/pull/kubeflow_testing/7/kubeflow-testing-presubmit/100","refs":[{"org":"kubeflow","repo":"testing","base_ref":"master","base_sha":"0123456789abcdef","pulls":[{"number":7,"sha":"abcdef0123456","title":"t"}]}],"job_type":"presubmit","job_name":"kubeflow-testing-presubmit","message":"m"}
        """;

    private static readonly string[] s_fragments = ["[", "]", "{", "}", "&a ", "*a", "<<: *a", "- ", ": ", "\n", "  ", "\"", "'", "{{", "\0", "\t", "!!binary ", "<x>", "</x>", "&amp;", "<!DOCTYPE x [<!ENTITY e \"e\">]>", "\\u0000", "null", "9999999999999999999999"];

    public static async Task<int> RunAsync(string[] args)
    {
        var count = Option(args, "--count", 10_000);
        var seed = Option(args, "--seed", 13);
        var timeout = TimeSpan.FromMilliseconds(Option(args, "--timeout-ms", 5_000));
        var saveTo = Path.GetFullPath(Text(args, "--out", Path.Combine(Path.GetTempPath(), "kfci-fuzz")));
        Directory.CreateDirectory(saveTo);
        var targets = new (string Name, string Seed, Func<byte[], Task> Parse)[]
        {
            ("prow_config.yaml", Config, bytes => { ProwConfigParser.Parse(bytes); return Task.CompletedTask; }),
            ("workflow", Workflow, bytes => { Render(bytes); return Task.CompletedTask; }),
            ("junit", JunitReport, async bytes => await Junit.CountFailuresAsync(new MemoryStream(bytes), CancellationToken.None)),
            ("pubsub", Envelope, bytes => { ProwEventParser.Parse(bytes, null, "1", DateTimeOffset.UnixEpoch); return Task.CompletedTask; }),
        };

        // The unmutated seeds must parse: they warm the JIT (so the slowest input is a parser's, not the compiler's), and a
        // seed its own parser refuses would make every mutation a refusal and the run meaningless.
        foreach (var (name, seedText, parse) in targets)
        {
            try
            {
                await parse(Encoding.UTF8.GetBytes(seedText));
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"fuzz: the {name} seed itself is refused: {Describe(e)}");
                return 2;
            }
        }

        // One generator per kind, so a kind's inputs do not change when another kind is added or its count changes.
        var randoms = targets.Select((_, k) => new Random(unchecked((seed * 31) + k))).ToArray();
        var tallies = targets.Select(t => new Tally(t.Name)).ToArray();
        long peakHeap = 0;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            // Kinds interleaved, so memory growth in one parser shows up while the others still run.
            for (var k = 0; k < targets.Length; k++)
            {
                var (name, seedText, parse) = targets[k];
                var input = Mutate(Encoding.UTF8.GetBytes(seedText), randoms[k]);
                var tally = tallies[k];
                var watch = Stopwatch.StartNew();
                var work = Task.Run(() => parse(input));
                var outcome = await Task.WhenAny(work, Task.Delay(timeout)) != work ? Outcome.Hang
                    : work.Exception?.InnerException is not { } e ? Outcome.Accepted
                    : !IsRefusal(e) ? Outcome.Crash
                    : e.InnerException is { } inner && YamlDotNetFaults.IsMalformedInput(inner) ? Outcome.RefusedParserBug
                    : Outcome.Refused;
                watch.Stop();
                tally.Count(outcome);
                if (outcome is Outcome.Hang or Outcome.Crash or Outcome.RefusedParserBug && tally.Saved(outcome) < 3)
                {
                    var file = Save(saveTo, $"{name}-{outcome}-{i}", input);
                    tally.Save(outcome);
                    var what = outcome == Outcome.Hang ? $"no answer within {timeout.TotalMilliseconds} ms" : Describe(work.Exception!.InnerException!);
                    Console.WriteLine($"{(outcome == Outcome.RefusedParserBug ? "caught" : "FINDING")} {name} input {i} (seed {seed}): {what}; saved {file}");
                }

                if (watch.Elapsed > tally.Slowest)
                {
                    tally.Slowest = watch.Elapsed;
                    tally.SlowestIndex = i;
                    tally.SlowestInput = input;
                }
            }

            peakHeap = Math.Max(peakHeap, GC.GetTotalMemory(forceFullCollection: false));
            if ((i + 1) % 500 == 0)
            {
                // A long run on a shared machine may be stopped: what it found so far is printed as it goes.
                Console.WriteLine($"progress: {i + 1} per kind, {total.Elapsed.TotalSeconds:F0} s, "
                    + string.Join("; ", tallies.Select(t => $"{t.Name} {t[Outcome.Accepted]}/{t[Outcome.Refused]}/{t[Outcome.RefusedParserBug]}/{t[Outcome.Crash]}/{t[Outcome.Hang]}")));
            }
        }

        total.Stop();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        Console.WriteLine($"fuzz: {count} inputs per kind ({count * targets.Length} in all), seed {seed}, timeout {timeout.TotalMilliseconds} ms, {total.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"memory: peak working set {self.PeakWorkingSet64 / (1024 * 1024)} MB, peak managed heap {peakHeap / (1024 * 1024)} MB, {GC.CollectionCount(2)} gen-2 collections");
        Console.WriteLine("| kind | accepted | refused | refused (YamlDotNet exception, caught) | crash | hang | slowest |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var tally in tallies)
        {
            var file = Save(saveTo, $"{tally.Name}-slowest-{tally.SlowestIndex}", tally.SlowestInput);
            Console.WriteLine($"| {tally.Name} | {tally[Outcome.Accepted]} | {tally[Outcome.Refused]} | {tally[Outcome.RefusedParserBug]} | {tally[Outcome.Crash]} | {tally[Outcome.Hang]} | input {tally.SlowestIndex}, {tally.SlowestInput.Length:N0} bytes, {tally.Slowest.TotalMilliseconds:F1} ms ({Path.GetFileName(file)}) |");
        }

        Console.WriteLine($"inputs saved under {saveTo}");
        return tallies.Sum(t => t[Outcome.Crash] + t[Outcome.Hang]) == 0 ? 0 : 1;
    }

    private enum Outcome
    {
        Accepted,
        Refused,
        RefusedParserBug,
        Crash,
        Hang,
    }

    private static string Describe(Exception e) => $"{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}";

    private static string Save(string directory, string name, byte[] input)
    {
        var path = Path.Combine(directory, name + ".in");
        File.WriteAllBytes(path, input);
        return path;
    }

    private static void Render(byte[] bytes)
    {
        var job = new ProwJobSpec(JobType.Presubmit, "kubeflow-presubmit", "1", new Refs
        {
            Org = "kubeflow", Repo = "kubeflow", BaseRef = "master", BaseSha = "0123456789abcdef", Pulls = [new Pull { Number = 1, Sha = "abcdef0123456" }],
        }, []);
        var entry = new PlanEntry(new WorkflowEntry { Index = 0, Name = "e2e", Workflow = "w.yaml" }, true, "fuzz", "kubeflow-presubmit-e2e-1-abcdef0");
        WorkflowRenderer.Render(bytes, job, entry, new WorkflowRenderOptions());
    }

    private static bool IsRefusal(Exception e) =>
        e is ProwConfigException or WorkflowRenderException or XmlException or InvalidEventException;

    /// <summary>One to eight mutations: byte flips, hostile fragments, repeated slices (nesting bombs), truncation.</summary>
    private static byte[] Mutate(byte[] seed, Random random)
    {
        var data = new List<byte>(seed);
        for (var m = random.Next(1, 9); m > 0 && data.Count > 0; m--)
        {
            var at = random.Next(data.Count);
            switch (random.Next(5))
            {
                case 0:
                    data[at] = (byte)random.Next(256);
                    break;
                case 1:
                    data.InsertRange(at, Encoding.UTF8.GetBytes(s_fragments[random.Next(s_fragments.Length)]));
                    break;
                case 2:
                    var fragment = Encoding.UTF8.GetBytes(s_fragments[random.Next(s_fragments.Length)]);
                    var times = random.Next(2) == 0 ? random.Next(2, 64) : random.Next(1_000, 60_000);
                    data.InsertRange(at, Enumerable.Repeat(fragment, times).SelectMany(f => f));
                    break;
                case 3:
                    var length = Math.Min(random.Next(1, 256), data.Count - at);
                    data.InsertRange(at, data.GetRange(at, length));
                    break;
                default:
                    data.RemoveRange(at, Math.Min(random.Next(1, 64), data.Count - at));
                    break;
            }
        }

        return [.. data];
    }

    private static string Text(string[] args, string name, string fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>One kind's outcomes and its slowest input.</summary>
    private sealed class Tally(string name)
    {
        private readonly int[] _counts = new int[Enum.GetValues<Outcome>().Length];
        private readonly int[] _saved = new int[Enum.GetValues<Outcome>().Length];

        public string Name => name;

        public TimeSpan Slowest { get; set; }

        public int SlowestIndex { get; set; } = -1;

        public byte[] SlowestInput { get; set; } = [];

        public int this[Outcome outcome] => _counts[(int)outcome];

        public void Count(Outcome outcome) => _counts[(int)outcome]++;

        public int Saved(Outcome outcome) => _saved[(int)outcome];

        public void Save(Outcome outcome) => _saved[(int)outcome]++;
    }
}
