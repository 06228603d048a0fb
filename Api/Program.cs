using Backtesting.Api.Hosting;

// `create-key --user NAME [--role user|admin] [--key KEY]` stores a key and prints it; anything else runs the API.
if (args.Length > 0 && args[0] == KeyCommand.Verb)
{
    return await KeyCommand.RunAsync(args[1..]);
}

var app = ApiApp.Build(args);
await app.RunAsync();
return 0;

/// <summary>The API's entry point (named for WebApplicationFactory in tests).</summary>
public partial class Program;
