using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Backprop.AspNetCore;
using Backprop.IO;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace Backprop.Tests.Serving;

/// <summary>docs/serving.md's ASP.NET Core example, line for line, in a real app on a loopback port; and the registration's rules.</summary>
public sealed class AspNetCoreExampleTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _dir = Directory.CreateTempSubdirectory("backprop-serve-di-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_minimal_api_of_the_docs_serves_the_model_by_injection_and_by_the_mapped_endpoints()
    {
        string path = Path.Combine(_dir, "iris.json");
        ServingModels.Flowers().Save(path);
        string[] args = [];

        // docs/serving.md, "In an ASP.NET Core app" (with the model file's path and a free port):
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddBackpropModel("iris", path, watch: true);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();

        app.MapBackpropEndpoints("iris", "/iris");     // POST /iris/predict, GET /iris/model, /iris/health, /iris/metrics
        app.MapPost("/species", async ([FromKeyedServices("iris")] BackpropPredictor iris, Dictionary<string, double> flower) =>
        {
            var prediction = await iris.PredictAsync(flower);   // micro-batched with the other requests in flight
            return Results.Ok(new { species = prediction.Class, version = prediction.ModelVersion });
        });

        await app.StartAsync(Ct);
        try
        {
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var client = new HttpClient { BaseAddress = new Uri(address) };
            var flower = ServingModels.Flower(0, 10, 20, 30);
            using var answer = await client.PostAsJsonAsync("/species", flower, Ct);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            var body = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(Ct)).RootElement;
            Assert.Equal(app.Services.GetRequiredKeyedService<BackpropPredictor>("iris").Predict(flower).Class, body.GetProperty("species").GetString());
            Assert.Equal(1, body.GetProperty("version").GetInt32());

            using var mapped = await client.PostAsJsonAsync("/iris/predict", flower, Ct);
            Assert.Equal(HttpStatusCode.OK, mapped.StatusCode);
            string metrics = await client.GetStringAsync("/iris/metrics", Ct);
            Assert.Contains("backprop_requests_total{endpoint=\"/iris/predict\",code=\"200\"} 1", metrics);
        }
        finally
        {
            await app.StopAsync(Ct);
            await app.DisposeAsync();
        }
    }

    [Fact]
    public void Names_are_checked_and_two_models_are_kept_apart()
    {
        string a = Path.Combine(_dir, "a.json"), b = Path.Combine(_dir, "b.json");
        ServingModels.Flowers(seed: 1).Save(a);
        ServingModels.Regressor().Save(b);
        var services = new ServiceCollection().AddLogging();
        services.AddBackpropModel("flowers", a).AddBackpropModel("lines", b);
        Assert.Throws<ArgumentException>(() => services.AddBackpropModel("flowers", b));
        Assert.Throws<ArgumentException>(() => services.AddBackpropModel("../etc", b));
        Assert.Throws<ArgumentOutOfRangeException>(() => services.AddBackpropModel("bad", b, configure: o => o.MaxBatchRows = 0));
        using var provider = services.BuildServiceProvider();
        var models = provider.GetRequiredService<BackpropModels>();
        Assert.Equal(["flowers", "lines"], models.Names);
        Assert.Same(models.Get("flowers"), provider.GetRequiredService<BackpropPredictor>()); // the first is the default
        Assert.Same(models.Get("lines"), provider.GetRequiredKeyedService<BackpropPredictor>("lines"));
        Assert.NotNull(models.Predict("flowers", ServingModels.Flower(1, 2, 3, 4)).Class);
        Assert.Equal(2, models.Get("lines").Predict(new Dictionary<string, double> { ["a"] = 1, ["b"] = 2, ["c"] = 3 }).Values!.Count);
        var missing = Assert.Throws<KeyNotFoundException>(() => models.Get("nope"));
        Assert.Contains("'flowers', 'lines'", missing.Message);
    }

    [Fact]
    public void The_library_predictor_refuses_a_record_without_a_column_naming_it()
    {
        string a = Path.Combine(_dir, "a.json");
        ServingModels.Flowers().Save(a);
        var services = new ServiceCollection().AddLogging();
        services.AddBackpropModel("flowers", a);
        using var provider = services.BuildServiceProvider();
        var predictor = provider.GetRequiredService<BackpropPredictor>();
        var e = Assert.Throws<BackpropException>(() => predictor.Predict(new Dictionary<string, double> { ["sepal length"] = 1 }));
        Assert.Contains("sepal_width", e.Message);
        _ = ModelFile.FormatName;
    }
}
