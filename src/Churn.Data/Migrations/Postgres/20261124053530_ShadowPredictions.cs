using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Churn.Data.Migrations.Postgres
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
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    Time = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ModelName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    PredictionId = table.Column<Guid>(type: "uuid", nullable: false),
                    ChampionVersion = table.Column<int>(type: "integer", nullable: false),
                    ChallengerVersion = table.Column<int>(type: "integer", nullable: false),
                    ChampionProbability = table.Column<double>(type: "double precision", nullable: false),
                    ChallengerProbability = table.Column<double>(type: "double precision", nullable: false),
                    ChampionWillChurn = table.Column<bool>(type: "boolean", nullable: false),
                    ChallengerWillChurn = table.Column<bool>(type: "boolean", nullable: false),
                    ChampionTier = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    ChallengerTier = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false)
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
