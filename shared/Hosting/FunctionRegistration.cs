using Microsoft.Extensions.DependencyInjection;

namespace Kfci.Hosting;

/// <summary>A function a project offers: its target name and how to get an instance for one request.</summary>
internal sealed record FunctionRegistration(string Name, Type Type, Func<IServiceProvider, IMessagePublishedFunction> Create)
{
    public static FunctionRegistration For<TFunction>(string name)
        where TFunction : class, IMessagePublishedFunction =>
        new(name, typeof(TFunction), static services => services.GetRequiredService<TFunction>());

    /// <summary>The Functions Framework names targets by type; kfci by a short name. Both are accepted.</summary>
    public bool Matches(string target) =>
        string.Equals(target, Name, StringComparison.OrdinalIgnoreCase) || string.Equals(target, Type.FullName, StringComparison.Ordinal);

    /// <summary>Picks the registration <paramref name="target"/> names, or the only one when no target is given.</summary>
    public static FunctionRegistration Select(IReadOnlyList<FunctionRegistration> registrations, string? target)
    {
        var known = string.Join(", ", registrations.Select(r => r.Name));
        if (target is null)
        {
            return registrations.Count switch
            {
                1 => registrations[0],
                0 => throw new FunctionHostConfigurationException("no function is registered; call builder.AddFunction<T>(name) in Program.cs"),
                _ => throw new FunctionHostConfigurationException($"this project serves several functions; set FUNCTION_TARGET (or --target) to one of: {known}"),
            };
        }

        return registrations.FirstOrDefault(r => r.Matches(target))
            ?? throw new FunctionHostConfigurationException($"unknown function target '{target}'; FUNCTION_TARGET (or --target) must be one of: {known}");
    }
}
