using System.Net;
using System.Text;
using System.Text.Json;

namespace Backprop.Tests.Serving;

/// <summary>
/// The list of malformed requests (docs/serving.md, "Malformed requests"): each gets a 4xx JSON error whose message
/// says what is wrong and whose field names where, never a 500 or an empty answer; and the server goes on serving.
/// </summary>
public sealed class MalformedRequestTests : IAsyncLifetime
{
    private LiveServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await LiveServer.Start(ServingModels.Flowers(), configure: o => o.MaxBodyBytes = 256 * 1024);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private const string Good = """{"sepal length": 1, "sepal_width": 2, "petal/length": 3, "petal_width": 4}""";

    /// <summary>One kind of malformed request: what is sent, and the status, field and words of the answer.</summary>
    public sealed record Case(string Kind, int Status, string? Field, string Says, string Body = "", string ContentType = "application/json",
        string Method = "POST", string Path = "predict", string? Host = null, string? Origin = null, byte[]? Raw = null)
    {
        public override string ToString() => Kind;
    }

    private static string Records(int n) => "[" + string.Join(",", Enumerable.Repeat(Good, n)) + "]";

    public static TheoryData<Case> Cases => new(
        // The body as JSON
        new Case("empty body", 400, "body", "empty"),
        new Case("not UTF-8", 400, "body", "UTF-8", Raw: [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]),
        new Case("truncated JSON", 400, "body", "not valid JSON", """{"sepal length": 1,"""),
        new Case("two JSON values", 400, "body", "goes on after", Good + " " + Good),
        new Case("a number, not a record", 400, "body", "is a number", "42"),
        new Case("a string, not a record", 400, "body", "is a string", "\"sepal length\""),
        new Case("null, not a record", 400, "body", "is null", "null"),
        new Case("a boolean, not a record", 400, "body", "is a boolean", "true"),
        new Case("an empty array of records", 400, "body", "empty", "[]"),
        new Case("a number where a record should be", 400, "/0", "[[...]]", "[1, 2, 3, 4]"),
        new Case("null where a record should be", 400, "/1", "record 1 is null", "[" + Good + ", null]"),
        new Case("NaN literal", 400, "body", "not valid JSON", """{"sepal length": NaN}"""),
        new Case("comments", 400, "body", "not valid JSON", """{/* a comment */ "sepal length": 1}"""),
        new Case("nested too deep (in an ignored column)", 400, "body", "depth", """{"species": [[[[[[1]]]]]]}"""),
        new Case("a name that is half a surrogate pair", 400, "body", "not valid text", """{"\uD800": 1}"""),
        // The columns of a record by name
        new Case("missing column", 400, "/petal_width", "no value for \"petal_width\"", """{"sepal length": 1, "sepal_width": 2, "petal/length": 3}"""),
        new Case("missing column in the third record", 400, "/2/sepal_width", "record 2 has no value for \"sepal_width\"",
            "[" + Good + "," + Good + """, {"sepal length": 1, "petal/length": 3, "petal_width": 4}]"""),
        new Case("unknown column", 400, "/sepal_lenght", "\"sepal_lenght\" is not a column of the model",
            """{"sepal_lenght": 1, "sepal_width": 2, "petal/length": 3, "petal_width": 4}"""),
        new Case("an empty column name", 400, "/", "\"\" is not a column", """{"": 1}"""),
        new Case("a column given twice", 400, "/sepal_width", "given twice",
            """{"sepal length": 1, "sepal_width": 2, "sepal_width": 2, "petal/length": 3, "petal_width": 4}"""),
        new Case("a string value", 400, "/petal~1length", "is a string; expected a number",
            """{"sepal length": 1, "sepal_width": 2, "petal/length": "3", "petal_width": 4}"""),
        new Case("a null value", 400, "/sepal length", "is null; expected a number", """{"sepal length": null}"""),
        new Case("a boolean value", 400, "/sepal length", "is a boolean", """{"sepal length": false}"""),
        new Case("an object value", 400, "/sepal length", "is an object", """{"sepal length": {"value": 1}}"""),
        new Case("an array value", 400, "/sepal length", "is an array", """{"sepal length": [1]}"""),
        new Case("a number too large for a double", 400, "/sepal length", "not a finite double", """{"sepal length": 1e400}"""),
        // Records by position
        new Case("too few values by position", 400, "/0", "has 3 value(s); the model takes 4", "[[1, 2, 3]]"),
        new Case("too many values by position", 400, "/0/4", "more than 4 values", "[[1, 2, 3, 4, 5]]"),
        new Case("a string by position", 400, "/1/2", "is a string", "[[1, 2, 3, 4], [1, 2, \"x\", 4]]"),
        // Limits
        new Case("more records than allowed", 413, "/1000", "more than 1,000 records", Records(1001)),
        new Case("a body larger than allowed", 413, "body", "larger than 262,144 bytes", "[" + new string(' ', 300_000) + "]"),
        // Content types
        new Case("text/plain", 415, "Content-Type", "application/json or text/csv", Good, "text/plain"),
        new Case("no Content-Type", 415, "Content-Type", "no Content-Type", Good, ""),
        new Case("a form post", 415, "Content-Type", "application/x-www-form-urlencoded", "a=1", "application/x-www-form-urlencoded"),
        new Case("a charset other than UTF-8", 415, "Content-Type", "UTF-8", Good, "application/json; charset=iso-8859-1"),
        // CSV
        new Case("CSV: empty", 400, "body", "empty", "", "text/csv"),
        new Case("CSV: a header and no records", 400, "body", "no records", "sepal length,sepal_width,petal/length,petal_width\n", "text/csv"),
        new Case("CSV: a column missing from the header", 400, "header (line 1)", "no column \"petal_width\"", "sepal length,sepal_width,petal/length\n1,2,3\n", "text/csv"),
        new Case("CSV: an unknown column in the header", 400, "header, column 5", "\"colour\"",
            "sepal length,sepal_width,petal/length,petal_width,colour\n1,2,3,4,red\n", "text/csv"),
        new Case("CSV: a column named twice", 400, "header, column 5", "twice",
            "sepal length,sepal_width,petal/length,petal_width,sepal_width\n1,2,3,4,2\n", "text/csv"),
        new Case("CSV: not a number", 400, "line 3, column \"sepal_width\"", "'two' is not a finite number",
            "sepal length,sepal_width,petal/length,petal_width\n1,2,3,4\n1,two,3,4\n", "text/csv"),
        new Case("CSV: a line with too few fields", 400, "line 2", "has 3 field(s); the header has 4",
            "sepal length,sepal_width,petal/length,petal_width\n1,2,3\n", "text/csv"),
        new Case("CSV: infinity", 400, "line 2, column \"petal_width\"", "not a finite number",
            "sepal length,sepal_width,petal/length,petal_width\n1,2,3,Infinity\n", "text/csv"),
        // The request line and headers
        new Case("a query parameter naming a file", 400, "model", "no query parameters", Good, Path: "predict?model=/etc/passwd"),
        new Case("GET on /predict", 405, "method", "use POST", Method: "GET"),
        new Case("DELETE on /model", 405, "method", "use GET", Method: "DELETE", Path: "model"),
        new Case("a path that is no endpoint", 404, "path", "no such resource", Method: "GET", Path: "files/etc/passwd"),
        new Case("a Host of another name", 421, "Host", "does not name this server", Good, Host: "evil.example"),
        new Case("another web origin", 403, "Origin", "web origin", Good, Origin: "http://evil.example"));

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_malformed_request_gets_a_4xx_json_error_naming_the_field_and_the_server_goes_on(Case c)
    {
        var (status, body, response) = await _server.Send(new HttpMethod(c.Method), c.Path, c.Raw is null && c.Body.Length == 0 && c.Method != "POST" ? null : c.Body,
            c.ContentType, request =>
            {
                if (c.Raw is not null)
                {
                    request.Content = new ByteArrayContent(c.Raw);
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", c.ContentType);
                }
                if (c.Host is not null)
                    request.Headers.Host = c.Host + ":" + _server.Port;
                if (c.Origin is not null)
                    request.Headers.TryAddWithoutValidation("Origin", c.Origin);
            });
        Assert.Equal(c.Status, (int)status);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        string error = body.GetProperty("error").GetString()!;
        Assert.Contains(c.Says, error);
        if (c.Field is not null)
            Assert.Equal(c.Field, body.GetProperty("field").GetString());

        var (ok, answer, _) = await _server.Post(Good);
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(1, answer.GetProperty("predictions").GetArrayLength());
    }

    [Fact]
    public void The_list_has_at_least_30_kinds()
    {
        Assert.True(Cases.Count >= 30, $"{Cases.Count} kinds");
        Assert.Equal(Cases.Count, Cases.Select(c => c.Data.Kind).Distinct().Count());
    }

    [Fact]
    public async Task A_thousand_records_are_the_limit_not_past_it()
    {
        var (status, body, _) = await _server.Post(Records(1000));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(1000, body.GetProperty("predictions").GetArrayLength());
    }

    [Fact]
    public async Task A_body_cut_off_by_the_client_counts_as_an_error_and_the_server_goes_on()
    {
        // Content-Length promises more than is sent, then the connection closes: nothing to answer, nothing broken.
        using (var socket = new System.Net.Sockets.TcpClient())
        {
            await socket.ConnectAsync(IPAddress.Loopback, _server.Port, TestContext.Current.CancellationToken);
            var stream = socket.GetStream();
            string head = $"POST /predict HTTP/1.1\r\nHost: 127.0.0.1:{_server.Port}\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{{\"sepal";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), TestContext.Current.CancellationToken);
        }
        var (ok, _, _) = await _server.Post(Good);
        Assert.Equal(HttpStatusCode.OK, ok);
        string metrics = await _server.Client.GetStringAsync("metrics", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("code=\"500\"", metrics);
    }

    [Fact]
    public async Task No_malformed_request_of_the_list_was_answered_500()
    {
        foreach (var c in Cases.Select(d => d.Data).Take(10))
            await _server.Send(new HttpMethod(c.Method), c.Path, c.Body, c.ContentType);
        string metrics = await _server.Client.GetStringAsync("metrics", TestContext.Current.CancellationToken);
        Assert.DoesNotContain("kind=\"server\"", metrics);
        Assert.Contains("kind=\"client\"", metrics);
        _ = JsonDocument.Parse("{}");
    }
}
