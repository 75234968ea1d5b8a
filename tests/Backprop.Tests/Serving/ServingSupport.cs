using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Backprop.AspNetCore;
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Backprop.Tests.Serving;

/// <summary>Small trained models with named columns (a target and a dropped column too), written to model files.</summary>
internal static class ServingModels
{
    /// <summary>The classifier's columns: one with a space and one with a '/' (JSON Pointer escapes it as ~1).</summary>
    public static readonly string[] FlowerColumns = ["sepal length", "sepal_width", "petal/length", "petal_width"];

    public static readonly string[] Species = ["setosa", "versicolor", "virginica"];

    /// <summary>Three blobs in four dimensions; a different <paramref name="seed"/> or <paramref name="epochs"/> gives a different model.</summary>
    public static Model<float> Flowers(long seed = 1, int epochs = 20, int hidden = 8)
    {
        var rng = new SplitMix(seed + 100);
        int rows = 150;
        var x = new double[rows * 4];
        var y = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            y[r] = r % 3;
            for (int j = 0; j < 4; j++)
                x[r * 4 + j] = y[r] * (j + 1) + rng.Normal() * 0.7 + 10 * j;
        }
        var data = Dataset.Classification(x, 4, y, 3, Species, "flowers", FlowerColumns, "species");
        var schema = DataSchema.For(TaskKind.Classification, 4, Species) with { FeatureNames = FlowerColumns, Target = "species", DroppedColumns = ["id"] };
        var model = Model.Classifier(4, Species).WithSchema(schema).Preprocess(PreprocessingKind.Standardize).Dense(hidden, Activation.Tanh).Build<float>(seed);
        model.Fit(data, new TrainingOptions { Epochs = epochs, Optimizer = new Adam(0.05), Seed = seed });
        return model;
    }

    /// <summary>A regressor of two outputs from three named columns.</summary>
    public static Model<float> Regressor(long seed = 3)
    {
        var rng = new SplitMix(seed);
        int rows = 100;
        var x = new double[rows * 3];
        var t = new double[rows * 2];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < 3; j++)
                x[r * 3 + j] = rng.Normal();
            t[r * 2] = x[r * 3] + 2 * x[r * 3 + 1];
            t[r * 2 + 1] = x[r * 3 + 2] - x[r * 3];
        }
        string[] names = ["a", "b", "c"];
        var data = Dataset.Regression(x, 3, t, 2, "lines", names, "t");
        var model = Model.For(data).Preprocess(PreprocessingKind.Standardize).Dense(6, Activation.Tanh).Build<float>(seed);
        model.Fit(data, new TrainingOptions { Epochs = 10, Optimizer = new Adam(0.05), Seed = seed });
        return model;
    }

    /// <summary>A record of the flowers' columns (by name) from four values.</summary>
    public static Dictionary<string, double> Flower(double a, double b, double c, double d) => new()
    {
        [FlowerColumns[0]] = a, [FlowerColumns[1]] = b, [FlowerColumns[2]] = c, [FlowerColumns[3]] = d,
    };

    private sealed class SplitMix(long seed)
    {
        private readonly Backprop.Numerics.SplitMix64 _rng = new(seed);

        public double Normal()
        {
            double u = Math.Max(_rng.NextDouble(), 1e-12), v = _rng.NextDouble();
            return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
        }
    }
}

/// <summary>Log lines kept in memory (a real logger provider, not a mock of the server), to check what was logged.</summary>
internal sealed class LogLines : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogLines owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
                owner._lines.Enqueue($"{logLevel}: {category}: {formatter(state, exception)}");
        }
    }
}

/// <summary>
/// The real server (BackpropServer, what `backprop serve` runs) on a free loopback port, with a model file in a
/// temporary folder and an HttpClient addressing it as 127.0.0.1:port.
/// </summary>
internal sealed class LiveServer : IAsyncDisposable
{
    private LiveServer(WebApplication app, string dir, string modelPath, LogLines logs, HttpClient client)
    {
        App = app;
        Dir = dir;
        ModelPath = modelPath;
        Logs = logs;
        Client = client;
    }

    public WebApplication App { get; }
    public string Dir { get; }
    public string ModelPath { get; }
    public LogLines Logs { get; }
    public HttpClient Client { get; }
    public Uri Address => Client.BaseAddress!;
    public int Port => Address.Port;
    public BackpropPredictor Predictor => App.Services.GetRequiredService<BackpropPredictor>();

    public static async Task<LiveServer> Start(Model<float> model, bool watch = false, Action<BackpropModelOptions>? configure = null, string name = "flowers")
    {
        string dir = Directory.CreateTempSubdirectory("backprop-serve-").FullName;
        string path = Path.Combine(dir, "model.json");
        model.Save(path);
        var logs = new LogLines();
        var app = BackpropServer.Build(new BackpropServerOptions
        {
            ModelPath = path,
            ModelName = name,
            Port = 0,
            Watch = watch,
            LogToConsole = false,
            Configure = o =>
            {
                o.Debounce = TimeSpan.FromMilliseconds(40);
                o.PollInterval = TimeSpan.FromMilliseconds(100);
                configure?.Invoke(o);
            },
        }, builder => builder.Logging.AddProvider(logs));
        await app.StartAsync(TestContext.Current.CancellationToken);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient { BaseAddress = new Uri(address + "/"), Timeout = TimeSpan.FromSeconds(30) };
        return new LiveServer(app, dir, path, logs, client);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync(CancellationToken.None);
        await App.DisposeAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Send(HttpMethod method, string path, string? body = null,
        string contentType = "application/json", Action<HttpRequestMessage>? edit = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType.Length > 0)
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        edit?.Invoke(request);
        var response = await Client.SendAsync(request, TestContext.Current.CancellationToken);
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        var json = response.Content.Headers.ContentType?.MediaType == "application/json" ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return (response.StatusCode, json, response);
    }

    public Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Post(string body, string contentType = "application/json") =>
        Send(HttpMethod.Post, "predict", body, contentType);

    /// <summary>The probabilities of each prediction in a /predict answer, in class order.</summary>
    public static double[][] Probabilities(JsonElement answer) =>
        answer.GetProperty("predictions").EnumerateArray()
            .Select(p => ServingModels.Species.Select(c => p.GetProperty("probabilities").GetProperty(c).GetDouble()).ToArray()).ToArray();
}
