using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Churn.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ShadowPredictions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "shadow_predictions",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Time = table.Column<long>(type: "INTEGER", nullable: false),
                    ModelName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    PredictionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ChampionVersion = table.Column<int>(type: "INTEGER", nullable: false),
                    ChallengerVersion = table.Column<int>(type: "INTEGER", nullable: false),
                    ChampionProbability = table.Column<double>(type: "REAL", nullable: false),
                    ChallengerProbability = table.Column<double>(type: "REAL", nullable: false),
                    ChampionWillChurn = table.Column<bool>(type: "INTEGER", nullable: false),
                    ChallengerWillChurn = table.Column<bool>(type: "INTEGER", nullable: false),
                    ChampionTier = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false),
                    ChallengerTier = table.Column<string>(type: "TEXT", maxLength: 20, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_shadow_predictions", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_shadow_predictions_ModelName_ChallengerVersion_Time",
                table: "shadow_predictions",
                columns: new[] { "ModelName", "ChallengerVersion", "Time" });

            migrationBuilder.CreateIndex(
                name: "IX_shadow_predictions_PredictionId",
                table: "shadow_predictions",
                column: "PredictionId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "shadow_predictions");
        }
    }
}
