using IoMT.Deployment.WorkerHost;

// The update worker host: configuration from appsettings.json and environment variables only (see README.md).
var builder = WebApplication.CreateSlimBuilder(args);
builder.AddWorkerHost();
var app = builder.Build();
app.MapWorkerHost();
await app.RunAsync().ConfigureAwait(false);
