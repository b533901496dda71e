using Kfci.Cli.CommandLine;

return await KfciCli.RunAsync(KfciCli.Create(), args);
