/// The OpenAPI 3.1 description of the REST API, served at `/api/v1/openapi.json`.
enum OpenAPIDocument {
    static let json = #"""
{
 "components": {
  "schemas": {
   "Charger": {
    "properties": {
     "allocated": {
      "type": [
       "number",
       "null"
      ]
     },
     "connected": {
      "type": "boolean"
     },
     "draw": {
      "items": {
       "type": "number"
      },
      "type": "array"
     },
     "id": {
      "type": "string"
     },
     "limit": {
      "type": [
       "number",
       "null"
      ]
     },
     "limit_installed": {
      "type": "boolean"
     },
     "limits_sent": {
      "type": "integer"
     },
     "measurement": {
      "enum": [
       "phase_currents",
       "total_current",
       "power",
       "none"
      ],
      "type": "string"
     },
     "model": {
      "type": [
       "string",
       "null"
      ]
     },
     "non_compliant": {
      "type": "boolean"
     },
     "ocpp_version": {
      "type": [
       "string",
       "null"
      ]
     },
     "phases": {
      "type": "integer"
     },
     "reason": {
      "type": [
       "string",
       "null"
      ]
     },
     "remote_address": {
      "type": [
       "string",
       "null"
      ]
     },
     "rotation": {
      "type": "string"
     },
     "source": {
      "type": [
       "string",
       "null"
      ]
     },
     "status": {
      "type": "string"
     },
     "transactions": {
      "items": {
       "type": "string"
      },
      "type": "array"
     },
     "upstream_connected": {
      "type": [
       "boolean",
       "null"
      ]
     },
     "vendor": {
      "type": [
       "string",
       "null"
      ]
     }
    },
    "required": [
     "id",
     "connected",
     "status",
     "phases",
     "rotation",
     "draw",
     "measurement",
     "limit_installed",
     "non_compliant",
     "transactions",
     "limits_sent"
    ],
    "type": "object"
   },
   "Error": {
    "properties": {
     "error": {
      "properties": {
       "message": {
        "type": "string"
       }
      },
      "required": [
       "message"
      ],
      "type": "object"
     }
    },
    "required": [
     "error"
    ],
    "type": "object"
   },
   "Limit": {
    "properties": {
     "current": {
      "description": "amperes per phase",
      "type": "number"
     },
     "expires_in": {
      "description": "seconds",
      "type": [
       "number",
       "null"
      ]
     },
     "level": {
      "examples": [
       "20A",
       "11000W",
       "60%"
      ],
      "type": "string"
     },
     "source": {
      "type": "string"
     }
    },
    "required": [
     "source",
     "level",
     "current"
    ],
    "type": "object"
   },
   "LimitRequest": {
    "properties": {
     "expires_after": {
      "description": "seconds; default limits.default_expiry (120 s)",
      "exclusiveMinimum": 0,
      "type": "number"
     },
     "level": {
      "type": "string"
     },
     "max_current": {
      "minimum": 0,
      "type": "number"
     },
     "max_power": {
      "minimum": 0,
      "type": "number"
     },
     "source": {
      "maxLength": 64,
      "minLength": 1,
      "type": "string"
     }
    },
    "required": [
     "source"
    ],
    "type": "object"
   },
   "Ripple": {
    "properties": {
     "fault": {
      "type": [
       "string",
       "null"
      ]
     },
     "input1": {
      "type": "boolean"
     },
     "input2": {
      "type": "boolean"
     },
     "level": {
      "type": [
       "string",
       "null"
      ]
     },
     "pattern": {
      "type": "string"
     }
    },
    "required": [
     "input1",
     "input2",
     "pattern"
    ],
    "type": "object"
   }
  },
  "securitySchemes": {
   "bearer": {
    "scheme": "bearer",
    "type": "http"
   }
  }
 },
 "info": {
  "description": "Load manager for EV charging sites: meter, allocation, load-reduction commands, ripple-control inputs and chargers. Every write needs `Authorization: Bearer <api.token>`; reads too unless `api.public_read` is true.",
  "title": "LoadGuard API",
  "version": "0.1.0"
 },
 "openapi": "3.1.0",
 "paths": {
  "/api/v1/allocation": {
   "get": {
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      },
      "description": "Allocation"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "503": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Effective limit per phase with its sources, building load, per-charger allocations"
   }
  },
  "/api/v1/chargers": {
   "get": {
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "items": {
          "$ref": "#/components/schemas/Charger"
         },
         "type": "array"
        }
       }
      },
      "description": "Chargers"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Chargers: connection, OCPP version, status, draw, limit, allocation and reason"
   }
  },
  "/api/v1/chargers/{id}/calls": {
   "post": {
    "parameters": [
     {
      "in": "path",
      "name": "id",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ],
    "requestBody": {
     "content": {
      "application/json": {
       "schema": {
        "properties": {
         "action": {
          "type": "string"
         },
         "payload": {
          "type": "object"
         }
        },
        "required": [
         "action"
        ],
        "type": "object"
       }
      }
     },
     "required": true
    },
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      },
      "description": "CALLRESULT as {result} or CALLERROR as {error}"
     },
     "400": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "404": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "502": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "503": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "504": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Send an OCPP call to a connected charger and await its answer (the answer never reaches the CSMS)"
   }
  },
  "/api/v1/inputs": {
   "get": {
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Ripple"
        }
       }
      },
      "description": "Inputs"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Ripple-control inputs and level"
   },
   "put": {
    "requestBody": {
     "content": {
      "application/json": {
       "schema": {
        "properties": {
         "input1": {
          "type": "boolean"
         },
         "input2": {
          "type": "boolean"
         },
         "pattern": {
          "pattern": "^[01]{2}$",
          "type": "string"
         }
        },
        "type": "object"
       }
      }
     },
     "required": true
    },
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Ripple"
        }
       }
      },
      "description": "Inputs"
     },
     "400": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "409": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Set the simulated inputs (simulated mode only)"
   }
  },
  "/api/v1/limits": {
   "get": {
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "items": {
          "$ref": "#/components/schemas/Limit"
         },
         "type": "array"
        }
       }
      },
      "description": "Limits"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Active load-reduction commands"
   },
   "post": {
    "requestBody": {
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/LimitRequest"
       }
      }
     },
     "required": true
    },
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Limit"
        }
       }
      },
      "description": "Stored"
     },
     "400": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Add or renew a load-reduction command (the lowest of all wins; expires unless renewed)"
   }
  },
  "/api/v1/limits/{source}": {
   "delete": {
    "parameters": [
     {
      "in": "path",
      "name": "source",
      "required": true,
      "schema": {
       "type": "string"
      }
     }
    ],
    "responses": {
     "204": {
      "description": "Removed"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "404": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Remove the command of a source"
   }
  },
  "/api/v1/meter": {
   "get": {
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      },
      "description": "Reading"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "503": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Latest 1-second reading (per phase and total V, I, P, Q, S, PF, f, registers)"
   }
  },
  "/api/v1/meter/registers": {
   "get": {
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      },
      "description": "Registers"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Energy registers in Wh / VArh"
   }
  },
  "/api/v1/openapi.json": {
   "get": {
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      },
      "description": "OpenAPI 3.1"
     }
    },
    "security": [],
    "summary": "This document"
   }
  },
  "/api/v1/simulator/building": {
   "put": {
    "requestBody": {
     "content": {
      "application/json": {
       "schema": {
        "properties": {
         "currents": {
          "items": {
           "minimum": 0,
           "type": "number"
          },
          "maxItems": 3,
          "minItems": 3,
          "type": "array"
         }
        },
        "required": [
         "currents"
        ],
        "type": "object"
       }
      }
     },
     "required": true
    },
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      },
      "description": "Set"
     },
     "400": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     },
     "409": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Set the simulated building load per phase in A (simulated meter only)"
   }
  },
  "/api/v1/status": {
   "get": {
    "responses": {
     "200": {
      "content": {
       "application/json": {
        "schema": {
         "type": "object"
        }
       }
      },
      "description": "Status"
     },
     "401": {
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Error"
        }
       }
      },
      "description": "Error"
     }
    },
    "summary": "Health: meter, measurement state, chargers, ripple control"
   }
  },
  "/metrics": {
   "get": {
    "responses": {
     "200": {
      "content": {
       "text/plain": {
        "schema": {
         "type": "string"
        }
       }
      },
      "description": "Prometheus text format"
     }
    },
    "security": [],
    "summary": "Prometheus metrics"
   }
  }
 },
 "security": [
  {
   "bearer": []
  }
 ],
 "servers": [
  {
   "url": "/"
  }
 ]
}
"""#
}
