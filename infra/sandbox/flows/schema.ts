export * from "../../../shared/flows/schema.js";
