using System.Globalization;
using System.Net;
using System.Text.Json;
using Backprop.AspNetCore;
using Backprop.Data;
using Backprop.Training;

namespace Backprop.Tests.Serving;

/// <summary>The real server on a loopback port: predictions by JSON and CSV equal the model's own, and the other endpoints say what they should.</summary>
public sealed class ServeEndpointTests : IAsyncLifetime
{
    private static readonly Model<float> Model = ServingModels.Flowers();
    private LiveServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await LiveServer.Start(Model);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private static double[] Offline(double a, double b, double c, double d) => Model.Predict(ServingModels.Flower(a, b, c, d));

    private static void Near(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5, $"output {i}: served {actual[i]}, the model says {expected[i]}");
    }

    [Fact]
    public async Task One_record_by_name_is_predicted_as_the_model_predicts_it()
    {
        var (status, body, _) = await _server.Post("""{"sepal length": 1.5, "sepal_width": 12, "petal/length": 23, "petal_width": 34}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("flowers", body.GetProperty("model").GetString());
        Assert.Equal(1, body.GetProperty("model_version").GetInt32());
        var p = LiveServer.Probabilities(body)[0];
        Near(Offline(1.5, 12, 23, 34), p);
        string expectedClass = ServingModels.Species[ClassRule.Predict<double>(Offline(1.5, 12, 23, 34))];
        Assert.Equal(expectedClass, body.GetProperty("predictions")[0].GetProperty("class").GetString());
    }

    [Fact]
    public async Task An_array_of_records_in_any_column_order_with_target_and_dropped_columns_and_positional_records()
    {
        var (status, body, _) = await _server.Post("""
            [
              {"petal_width": 30, "id": "row-7", "sepal_width": 10, "species": "setosa", "petal/length": 20, "sepal length": 0},
              [2, 14, 26, 38],
              {"sepal length": 1, "sepal_width": 12.5, "petal/length": 23, "petal_width": 34e0}
            ]
            """);
        Assert.Equal(HttpStatusCode.OK, status);
        var p = LiveServer.Probabilities(body);
        Assert.Equal(3, p.Length);
        Near(Offline(0, 10, 20, 30), p[0]);
        Near(Offline(2, 14, 26, 38), p[1]);
        Near(Offline(1, 12.5, 23, 34), p[2]);
        // The three classes come out, so the comparison above is not of three equal answers.
        Assert.Equal(3, body.GetProperty("predictions").EnumerateArray().Select(e => e.GetProperty("class").GetString()).Distinct().Count());
    }

    [Fact]
    public async Task Csv_with_a_header_in_any_order_with_quoted_names()
    {
        var (status, body, _) = await _server.Post(
            "petal_width,\"sepal length\",species,sepal_width,petal/length\n30,0,setosa,10,20\r\n38,2,virginica,14,26\n\n", "text/csv");
        Assert.Equal(HttpStatusCode.OK, status);
        var p = LiveServer.Probabilities(body);
        Near(Offline(0, 10, 20, 30), p[0]);
        Near(Offline(2, 14, 26, 38), p[1]);
    }

    [Fact]
    public async Task A_regressor_answers_values_per_output()
    {
        var regressor = ServingModels.Regressor();
        await using var server = await LiveServer.Start(regressor, name: "lines");
        var (status, body, _) = await server.Post("""[{"a": 0.5, "b": -1, "c": 2}, {"a": 1, "b": 1, "c": 1}]""");
        Assert.Equal(HttpStatusCode.OK, status);
        var predictions = body.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.False(predictions[0].TryGetProperty("class", out _));
        var values = predictions[0].GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Near(regressor.Predict(new Dictionary<string, double> { ["a"] = 0.5, ["b"] = -1, ["c"] = 2 }), values);
    }

    [Fact]
    public async Task Model_tells_schema_classes_metrics_version_and_the_file_hash()
    {
        var (status, body, _) = await _server.Send(HttpMethod.Get, "model");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1, body.GetProperty("model_version").GetInt32());
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(_server.ModelPath)));
        Assert.Equal(sha, body.GetProperty("sha256").GetString());
        Assert.Equal("model.json", body.GetProperty("file").GetString()); // the name only, not the server's folders
        Assert.Equal("classification", body.GetProperty("task").GetString());
        Assert.Equal(ServingModels.FlowerColumns, body.GetProperty("columns").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["species", "id"], body.GetProperty("ignored_columns").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(ServingModels.Species, body.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("standardize", body.GetProperty("preprocessing").GetString());
        Assert.Equal(20, body.GetProperty("training").GetProperty("epochs").GetInt32());
        Assert.Equal(1000, body.GetProperty("limits").GetProperty("max_records_per_request").GetInt32());
        Assert.Contains("->", body.GetProperty("network").GetString());
    }

    [Fact]
    public async Task Health_live_and_ready()
    {
        foreach (var path in new[] { "health", "health/live", "health/ready" })
        {
            var (status, body, _) = await _server.Send(HttpMethod.Get, path);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(body.GetProperty("ready").GetBoolean());
            Assert.Equal("ok", body.GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Metrics_are_prometheus_text_with_requests_latency_batches_and_reloads()
    {
        await _server.Post("""{"sepal length": 1, "sepal_width": 1, "petal/length": 1, "petal_width": 1}""");
        await _server.Post("""{"sepal length": 1}""");
        using var response = await _server.Client.GetAsync("metrics", TestContext.Current.CancellationToken);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("0.0.4", response.Content.Headers.ContentType?.Parameters.Single(p => p.Name == "version").Value);
        string text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Matches("""backprop_requests_total\{endpoint="/predict",code="200"\} [1-9]""", text);
        Assert.Matches("""backprop_requests_total\{endpoint="/predict",code="400"\} [1-9]""", text);
        Assert.Matches("""backprop_request_errors_total\{endpoint="/predict",kind="client"\} [1-9]""", text);
        Assert.Matches("""backprop_request_duration_seconds_bucket\{endpoint="/predict",le="\+Inf"\} [1-9]""", text);
        Assert.Matches("""backprop_batch_rows_count\{model="flowers"\} [1-9]""", text);
        Assert.Contains("""backprop_model_reloads_total{model="flowers",result="loaded"} 0""", text);
        Assert.Contains("""backprop_model_version{model="flowers"} 1""", text);
        // Every sample line is NAME{LABELS} VALUE, and every metric has its HELP and TYPE.
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith('#'))
            {
                Assert.Matches(@"^# (HELP|TYPE) backprop_[a-z_]+ .+$", line);
                continue;
            }
            Assert.Matches("""^backprop_[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.eE+-]+$""", line);
            string name = line[..line.IndexOfAny(['{', ' '])];
            string family = System.Text.RegularExpressions.Regex.Replace(name, "_(bucket|sum|count)$", "");
            Assert.True(text.Contains($"# TYPE {family} ") || text.Contains($"# TYPE {name} "), $"no TYPE for {name}");
        }
        // Histogram buckets are cumulative.
        var buckets = text.Split('\n').Where(l => l.StartsWith("backprop_request_duration_seconds_bucket{endpoint=\"/predict\"", StringComparison.Ordinal))
            .Select(l => long.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(buckets.Order(), buckets);
    }

    [Fact]
    public async Task The_openapi_document_describes_every_endpoint_and_its_answers_match_the_schemas()
    {
        var (status, doc, _) = await _server.Send(HttpMethod.Get, "openapi.json");
        Assert.Equal(HttpStatusCode.OK, status);
        var paths = doc.GetProperty("paths");
        Assert.Equal(["/", "/health", "/health/live", "/health/ready", "/metrics", "/model", "/predict"],
            paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var predict = paths.GetProperty("/predict").GetProperty("post");
        var content = predict.GetProperty("requestBody").GetProperty("content");
        Assert.True(content.TryGetProperty("application/json", out _));
        Assert.True(content.TryGetProperty("text/csv", out _));
        foreach (var code in new[] { "200", "400", "413", "415", "503" })
            Assert.True(predict.GetProperty("responses").TryGetProperty(code, out _), $"/predict documents no {code}");
        var schemas = doc.GetProperty("components").GetProperty("schemas");

        // Real answers against their documented schemas: every field documented, every required field there.
        var (_, prediction, _) = await _server.Post("""{"sepal length": 1, "sepal_width": 1, "petal/length": 1, "petal_width": 1}""");
        Conforms(schemas, "PredictResponse", prediction);
        var (_, model, _) = await _server.Send(HttpMethod.Get, "model");
        Conforms(schemas, "ModelInfoResponse", model);
        var (_, health, _) = await _server.Send(HttpMethod.Get, "health");
        Conforms(schemas, "HealthResponse", health);
        var (_, error, _) = await _server.Post("""{"nope": 1}""");
        Conforms(schemas, "ErrorResponse", error);
    }

    /// <summary>A small structural check of a value against a schema of the document (objects, arrays, refs, types).</summary>
    private static void Conforms(JsonElement schemas, string name, JsonElement value, string at = "$")
    {
        var schema = schemas.GetProperty(name);
        Check(schemas, schema, value, at);
    }

    private static void Check(JsonElement schemas, JsonElement schema, JsonElement value, string at)
    {
        if (schema.TryGetProperty("$ref", out var reference))
        {
            Conforms(schemas, reference.GetString()!.Split('/')[^1], value, at);
            return;
        }
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            Assert.Contains(oneOf.EnumerateArray(), s => s.TryGetProperty("$ref", out _) || Matches(s, value));
            var referenced = oneOf.EnumerateArray().FirstOrDefault(s => s.TryGetProperty("$ref", out _));
            if (value.ValueKind != JsonValueKind.Null && referenced.ValueKind != JsonValueKind.Undefined)
                Check(schemas, referenced, value, at);
            return;
        }
        Assert.True(Matches(schema, value), $"{at}: {value.ValueKind} where the schema says {schema}");
        if (value.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var properties))
        {
            foreach (var field in value.EnumerateObject())
            {
                Assert.True(properties.TryGetProperty(field.Name, out var fieldSchema), $"{at}.{field.Name} is not in the documented schema");
                Check(schemas, fieldSchema, field.Value, $"{at}.{field.Name}");
            }
            if (schema.TryGetProperty("required", out var required))
                foreach (var r in required.EnumerateArray())
                    Assert.True(value.TryGetProperty(r.GetString()!, out _), $"{at}: the required field {r} is missing");
        }
        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
            foreach (var (item, i) in value.EnumerateArray().Select((e, i) => (e, i)))
                Check(schemas, items, item, $"{at}[{i}]");
    }

    private static bool Matches(JsonElement schema, JsonElement value)
    {
        if (!schema.TryGetProperty("type", out var type))
            return true;
        var types = type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Select(t => t.GetString()!).ToArray() : [type.GetString()!];
        return value.ValueKind switch
        {
            JsonValueKind.Object => types.Contains("object"),
            JsonValueKind.Array => types.Contains("array"),
            JsonValueKind.String => types.Contains("string"),
            JsonValueKind.Number => types.Contains("number") || (types.Contains("integer") && value.TryGetInt64(out _)),
            JsonValueKind.True or JsonValueKind.False => types.Contains("boolean"),
            JsonValueKind.Null => types.Contains("null"),
            _ => false,
        };
    }

    [Fact]
    public async Task The_hand_written_predict_answer_is_the_documented_contract_serialized()
    {
        // /predict writes its answer by hand for speed; it must be what the contract type serializes to.
        var record = ServingModels.Flower(1, 12, 23, 34);
        var (_, body, _) = await _server.Post(JsonSerializer.Serialize(record));
        var version = _server.Predictor.Current!;
        var outputs = Model.Predict(record);
        var p = new double[3];
        ClassRule.Probabilities<double>(outputs, p);
        var contract = new PredictResponse("flowers", 1, [new PredictionDoc(ServingModels.Species[ClassRule.Predict<double>(outputs)],
            ServingModels.Species.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => (double)(float)p[x.i]), null)]);
        string expected = JsonSerializer.Serialize(contract, ServingJson.Default.PredictResponse);
        var a = JsonDocument.Parse(expected).RootElement;
        Assert.Equal(a.EnumerateObject().Select(x => x.Name), body.EnumerateObject().Select(x => x.Name));
        Assert.Equal(a.GetProperty("predictions")[0].EnumerateObject().Select(x => x.Name), body.GetProperty("predictions")[0].EnumerateObject().Select(x => x.Name));
        Assert.Equal(version.Number, body.GetProperty("model_version").GetInt32());
    }

    [Fact]
    public async Task The_predictor_injected_from_di_predicts_like_the_model()
    {
        var predictor = _server.Predictor;
        var record = ServingModels.Flower(1, 12, 23, 34);
        var one = predictor.Predict(record);
        var many = await predictor.PredictAsync([record, ServingModels.Flower(2, 14, 26, 38)]);
        Assert.Equal(1, one.ModelVersion);
        Near(Offline(1, 12, 23, 34), ServingModels.Species.Select(c => one.Probabilities![c]).ToArray());
        Near(Offline(2, 14, 26, 38), ServingModels.Species.Select(c => many[1].Probabilities![c]).ToArray());
        Assert.Equal(one.Class, many[0].Class);
        // The library's Prediction serializes to the same field names as /predict's predictions.
        string json = JsonSerializer.Serialize(one, ServingJson.Default.Prediction);
        Assert.Equal(["class", "probabilities", "model_version"], JsonDocument.Parse(json).RootElement.EnumerateObject().Select(p => p.Name));
    }
}
