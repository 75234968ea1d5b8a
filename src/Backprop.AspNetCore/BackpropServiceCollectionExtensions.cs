using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Backprop.AspNetCore;

/// <summary>Registers served models in dependency injection.</summary>
public static partial class BackpropServiceCollectionExtensions
{
    /// <summary>
    /// Registers the model file <paramref name="path"/> under <paramref name="name"/>: a singleton
    /// <see cref="BackpropPredictor"/> keyed by the name (<c>[FromKeyedServices("name")]</c>), also the unkeyed
    /// <see cref="BackpropPredictor"/> when it is the first model registered, and <see cref="BackpropModels"/> to look
    /// any of them up by name. The file is loaded when the host starts (a missing or broken file then fails the start,
    /// unless <see cref="BackpropModelOptions.AllowMissingAtStart"/>); with <paramref name="watch"/> it is reloaded,
    /// atomically, whenever it changes.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The model's name: 1 to 64 letters, digits, '.', '_' or '-'.</param>
    /// <param name="path">The model file (a relative path is resolved against the current folder now).</param>
    /// <param name="watch">Reload the model when the file changes.</param>
    /// <param name="configure">Sets the other options (batching, limits, the watcher's timings).</param>
    public static IServiceCollection AddBackpropModel(this IServiceCollection services, string name, string path, bool watch = false,
        Action<BackpropModelOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!ModelName().IsMatch(name))
            throw new ArgumentException($"'{name}' is not a model name: use 1 to 64 letters, digits, '.', '_' or '-'.", nameof(name));
        if (services.Any(d => d.ServiceType == typeof(Registration) && d.ImplementationInstance is Registration r && r.Name == name))
            throw new ArgumentException($"a model named '{name}' is already registered.", nameof(name));
        var options = new BackpropModelOptions { Watch = watch };
        configure?.Invoke(options);
        options = options.Clone();
        options.Validate();
        string full = Path.GetFullPath(path);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ServingMetrics>();
        services.TryAddSingleton(provider => new BackpropModels(provider, provider.GetServices<Registration>()));
        services.AddSingleton(new Registration(name));
        services.AddKeyedSingleton(name, (provider, _) => new BackpropPredictor(name, full, options,
            provider.GetRequiredService<ServingMetrics>(), provider.GetService<ILoggerFactory>(), provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(provider => provider.GetRequiredKeyedService<BackpropPredictor>(name));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, LoadAtStart>());
        return services;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex ModelName();

    /// <summary>The name of one registered model (one per <see cref="AddBackpropModel"/>).</summary>
    internal sealed record Registration(string Name);

    /// <summary>Loads every registered model when the host starts, so a bad file fails the start rather than the first request.</summary>
    private sealed class LoadAtStart(BackpropModels models) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            foreach (var name in models.Names)
                _ = models.Get(name);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>Every model registered with <c>AddBackpropModel</c>, by name (as ML.NET's <c>PredictionEnginePool</c>).</summary>
public sealed class BackpropModels
{
    private readonly IServiceProvider _services;

    internal BackpropModels(IServiceProvider services, IEnumerable<BackpropServiceCollectionExtensions.Registration> registrations)
    {
        _services = services;
        Names = registrations.Select(r => r.Name).ToArray();
    }

    /// <summary>The registered names, in registration order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The predictor registered as <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No model has that name.</exception>
    public BackpropPredictor Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Names.Contains(name, StringComparer.Ordinal))
            throw new KeyNotFoundException($"no model named '{name}' is registered; the models are {string.Join(", ", Names.Select(n => $"'{n}'"))}.");
        return _services.GetRequiredKeyedService<BackpropPredictor>(name);
    }

    /// <summary>Every registered predictor.</summary>
    public IEnumerable<BackpropPredictor> All => Names.Select(Get);

    /// <summary>One record's prediction from the model named <paramref name="name"/>.</summary>
    public Prediction Predict(string name, IReadOnlyDictionary<string, double> record) => Get(name).Predict(record);
}
