using System.Net;
using Backprop.Tests.Data;

namespace Backprop.Tests.Serving;

/// <summary>/predict on a table model: raw values by column name or in column order, encoded by the model's own pipeline.</summary>
public sealed class TableServeTests
{
    [Fact]
    public async Task Predict_RawRecords_AsTheLibraryPredictsThem()
    {
        var (model, _) = TableTests.TrainOnTable();
        await using var server = await LiveServer.Start(model, name: "table");
        var (status, body, _) = await server.Post(
            """[{"when": "2003-04-15", "color": "green"}, {"color": "purple", "size": 3, "when": null}, ["red", "2", "2001-01-11"]]""");
        Assert.Equal(HttpStatusCode.OK, status);
        var predictions = body.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(3, predictions.Length);
        var expected = model.Predict(new Dictionary<string, string> { ["color"] = "green", ["when"] = "2003-04-15" });
        var got = model.ClassNames.Select(c => predictions[0].GetProperty("probabilities").GetProperty(c).GetDouble()).ToArray();
        for (int k = 0; k < expected.Length; k++)
            Assert.Equal(expected[k], got[k], 5);
        var (bad, error, _) = await server.Post("""[["red"]]""");
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Contains("raw column(s)", error.ToString());
    }

    [Fact]
    public async Task Predict_CsvRowsOfTheRawColumns_ByHeaderName_AsTheJsonRecords()
    {
        var (model, _) = TableTests.TrainOnTable();
        await using var server = await LiveServer.Start(model, name: "table");
        // The columns in another order, the label among them (passed over), an empty field (missing), an unseen category.
        const string csv = "y,when,size,color\nA,2003-04-15,,green\nB,,3,purple\n";
        var (status, body, _) = await server.Post(csv, "text/csv");
        Assert.Equal(HttpStatusCode.OK, status);
        var (jsonStatus, json, _) = await server.Post("""[{"when": "2003-04-15", "color": "green"}, {"color": "purple", "size": 3}]""");
        Assert.Equal(HttpStatusCode.OK, jsonStatus);
        var fromCsv = body.GetProperty("predictions").EnumerateArray().ToArray();
        var fromJson = json.GetProperty("predictions").EnumerateArray().ToArray();
        Assert.Equal(2, fromCsv.Length);
        for (int r = 0; r < 2; r++)
            foreach (string c in model.ClassNames)
                Assert.Equal(fromJson[r].GetProperty("probabilities").GetProperty(c).GetDouble(), fromCsv[r].GetProperty("probabilities").GetProperty(c).GetDouble());
        var expected = model.Predict(new Dictionary<string, string> { ["color"] = "purple", ["size"] = "3" });
        Assert.Equal(expected[1], fromCsv[1].GetProperty("probabilities").GetProperty(model.ClassNames[1]).GetDouble(), 5);

        // The JSON path's errors, each a 400 naming the field; the server keeps serving.
        foreach (var (bad, says, field) in new[]
        {
            ("color,color\nred,blue\n", "twice", "header, column 2"),
            ("color,size\nred\n", "1 field(s); the header has 2", "line 2"),
            ("color,size\n", "no records", "body"),
            ("", "empty", "body"),
            ("red,2,2001-01-11\nblue,3,2002-02-12\n", "names none of the model's raw columns", "header (line 1)"),
        })
        {
            var (code, error, _) = await server.Post(bad, "text/csv");
            Assert.Equal(HttpStatusCode.BadRequest, code);
            Assert.Contains(says, error.GetProperty("error").GetString());
            Assert.Equal(field, error.GetProperty("field").GetString());
        }
        Assert.Equal(HttpStatusCode.OK, (await server.Post(csv, "text/csv")).Status);
    }
}
