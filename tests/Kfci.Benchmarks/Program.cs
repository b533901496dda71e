// kfci benchmarks, run by hand (never part of the test suite: timings depend on the machine and its load).
//   dotnet run -c Release --project tests/Kfci.Benchmarks -- startup [--runs 5] [--requests 20] [--functions Trigger,Janitor] [--variants framework-dependent,ReadyToRun] [--no-publish]
//   dotnet run -c Release --project tests/Kfci.Benchmarks -- watcher [--samples 50] [--runs 500] [--ticks 5]
//   dotnet run -c Release --project tests/Kfci.Benchmarks -- engine [steps]
//   dotnet run -c Release --project tests/Kfci.Benchmarks -- uploader [--runs 3] [--latencies 60] [--log-mb 200] [--junit 1000]
//   dotnet run -c Release --project tests/Kfci.Benchmarks -- janitor [--resources 10000] [--latency-ms 20] [--runs 3] [--parallelism 32] [--rate 1000] [--no-baseline]
//   dotnet run -c Release --project tests/Kfci.Benchmarks -- trigger [--events 1000] [--rate 100] [--concurrency 40] [--mode push|direct|both] [--floor-delay-ms 0]
//   dotnet run -c Release --project tests/Kfci.Benchmarks -- dashboard [--builds 200] [--tests 1000] [--flaky-runs 5000] [--samples 10]
//   dotnet run -c Release --project tests/Kfci.Benchmarks -- fuzz [--count 10000] [--seed 13] [--timeout-ms 5000] [--out DIR]
using Kfci.Benchmarks;

return args.FirstOrDefault() switch
{
    "startup" => await StartupBenchmark.RunAsync(StartupBenchmark.Settings.Parse(args[1..])),
    "watcher" => await WatcherBenchmark.RunAsync(WatcherBenchmark.Settings.Parse(args[1..])),
    "engine" => await EngineBenchmark.RunAsync(args[1..]),
    "uploader" => await UploaderBenchmark.RunAsync(UploaderBenchmark.Settings.Parse(args[1..])),
    "uploader-child" => await UploaderBenchmark.ChildAsync(args[1..]),
    "janitor" => await JanitorBenchmark.RunAsync(JanitorBenchmark.Settings.Parse(args[1..])),
    "trigger" => await TriggerBenchmark.RunAsync(TriggerBenchmark.Settings.Parse(args[1..])),
    "dashboard" => await DashboardBenchmark.RunAsync(DashboardBenchmark.Settings.Parse(args[1..])),
    "fuzz" => await FuzzProgram.RunAsync(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Kfci.Benchmarks startup [--runs N] [--requests N] [--functions A,B] [--variants A,B] [--no-publish]
               Kfci.Benchmarks trigger [--events N] [--rate N] [--concurrency N] [--mode push|direct|both] [--floor-delay-ms N]
               Kfci.Benchmarks watcher [--samples N] [--runs N] [--ticks N]
               Kfci.Benchmarks uploader [--runs N] [--latencies N] [--log-mb N] [--junit N]
               Kfci.Benchmarks janitor [--resources N] [--latency-ms N] [--runs N] [--parallelism N] [--rate N] [--no-baseline]
               Kfci.Benchmarks dashboard [--builds N] [--tests N] [--flaky-runs N] [--samples N]
               Kfci.Benchmarks engine [steps]
               Kfci.Benchmarks fuzz [--count N] [--seed S] [--timeout-ms T] [--out DIR]
        """);
    return 2;
}
