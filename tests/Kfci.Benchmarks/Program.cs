// kfci benchmarks, run by hand (never part of the test suite: timings depend on the machine and its load).
//   dotnet run -c Release --project tests/Kfci.Benchmarks -- startup [--runs 5] [--requests 20] [--functions Trigger,Janitor] [--no-publish]
//   dotnet run -c Release --project tests/Kfci.Benchmarks -- trigger [--events 1000] [--rate 100]
using Kfci.Benchmarks;

return args.FirstOrDefault() switch
{
    "startup" => await StartupBenchmark.RunAsync(StartupBenchmark.Settings.Parse(args[1..])),
    "trigger" => await TriggerBenchmark.RunAsync(TriggerBenchmark.Settings.Parse(args[1..])),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Kfci.Benchmarks startup [--runs N] [--requests N] [--functions A,B] [--no-publish]");
    Console.Error.WriteLine("       Kfci.Benchmarks trigger [--events N] [--rate N]");
    return 2;
}
