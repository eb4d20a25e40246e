-- AlterTable
ALTER TABLE "refresh_tokens" ADD COLUMN     "rotated_at" TIMESTAMPTZ(3);

