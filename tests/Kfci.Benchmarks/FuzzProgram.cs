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
/// <c>fuzz [--inputs N] [--seed S] [--timeout-ms T]</c>: mutated <c>prow_config.yaml</c> files, workflow YAMLs, junit
/// reports and Pub/Sub push bodies through the real parsers. Each input must end with its parser's own refusal or a
/// result within the timeout; anything else (another exception type, a timeout) is a finding, printed with its seed
/// and index so it can be replayed. Reports counts, the slowest input and the process's peak memory.
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

    private const string Envelope = """
        {"refs":{"org":"kubeflow","repo":"testing","base_ref":"master","base_sha":"0123456789abcdef","pulls":[{"number":7,"sha":"abcdef0123456","title":"t"}]},"job_type":"presubmit","job_name":"kubeflow-testing-presubmit","status":"triggered","build_id":"100","message":"m"}
        """;

    private static readonly string[] s_fragments = ["[", "]", "{", "}", "&a ", "*a", "<<: *a", "- ", ": ", "\n", "  ", "\"", "'", "{{", "\0", "\t", "!!binary ", "<x>", "</x>", "&amp;", "<!DOCTYPE x [<!ENTITY e \"e\">]>", "\\u0000", "null", "9999999999999999999999"];

    public static async Task<int> RunAsync(string[] args)
    {
        var inputs = Option(args, "--inputs", 10_000);
        var seed = Option(args, "--seed", 13);
        var timeout = TimeSpan.FromMilliseconds(Option(args, "--timeout-ms", 5_000));
        var targets = new (string Name, string Seed, Func<byte[], Task> Parse)[]
        {
            ("prow_config.yaml", Config, bytes => { ProwConfigParser.Parse(bytes); return Task.CompletedTask; }),
            ("workflow", Workflow, bytes => { Render(bytes); return Task.CompletedTask; }),
            ("junit", JunitReport, async bytes => await Junit.CountFailuresAsync(new MemoryStream(bytes), CancellationToken.None)),
            ("pubsub", Envelope, bytes => { ProwEventParser.Parse(bytes, null, "1", DateTimeOffset.UnixEpoch); return Task.CompletedTask; }),
        };

        var random = new Random(seed);
        var counts = targets.ToDictionary(t => t.Name, _ => (Accepted: 0, Refused: 0, Findings: 0));
        var slowest = (Time: TimeSpan.Zero, Name: "", Index: -1, Size: 0);
        long peak = 0;
        var total = Stopwatch.StartNew();
        for (var i = 0; i < inputs; i++)
        {
            var target = targets[i % targets.Length];
            var input = Mutate(Encoding.UTF8.GetBytes(target.Seed), random);
            var watch = Stopwatch.StartNew();
            var work = Task.Run(() => target.Parse(input));
            var c = counts[target.Name];
            if (await Task.WhenAny(work, Task.Delay(timeout)) != work)
            {
                Console.WriteLine($"FINDING {target.Name} input {i} (seed {seed}): no answer within {timeout.TotalMilliseconds} ms");
                c.Findings++;
            }
            else if (work.Exception?.InnerException is { } e)
            {
                if (IsRefusal(e))
                {
                    c.Refused++;
                }
                else
                {
                    Console.WriteLine($"FINDING {target.Name} input {i} (seed {seed}): {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
                    c.Findings++;
                }
            }
            else
            {
                c.Accepted++;
            }

            counts[target.Name] = c;
            if (watch.Elapsed > slowest.Time)
            {
                slowest = (watch.Elapsed, target.Name, i, input.Length);
            }

            peak = Math.Max(peak, Environment.WorkingSet);
        }

        Console.WriteLine($"fuzz: {inputs} inputs, seed {seed}, {total.Elapsed.TotalSeconds:F1} s, peak working set {peak / (1024 * 1024)} MB");
        Console.WriteLine("| parser | accepted | refused | findings |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var (name, c) in counts)
        {
            Console.WriteLine($"| {name} | {c.Accepted} | {c.Refused} | {c.Findings} |");
        }

        Console.WriteLine($"slowest: {slowest.Name} input {slowest.Index} ({slowest.Size} bytes) in {slowest.Time.TotalMilliseconds:F1} ms");
        return counts.Values.Sum(c => c.Findings) == 0 ? 0 : 1;
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

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
