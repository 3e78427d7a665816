global using Churn.Server.Tests.Fixtures;
